// A request refused before its parameters are used (over a limit, an unreadable body): the pipeline
// answers it with its HTTP status and the envelope with the transport code (7) and this message.
export class TransportRefusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly publicMessage: string,
  ) {
    super(publicMessage);
  }
}
