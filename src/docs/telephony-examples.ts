// Worked examples of the telephony API: the vendor page's own example requests, pointed at the demo
// project (`npm run demo`: project 10, DID 07333333333, John Doe uid 123 with assigns 2190811 and 555),
// with the answers a freshly loaded demo really gives. test/openapi.test.ts replays every one, in this
// order, against a fresh demo, so an example that stops being true fails the build.
//
// The example marked `tryIt` fills the "Try it out" form of its operation (GET or POST), so pressing
// Execute on a server with the demo loaded answers real data.
import type { Envelope } from '../telephony/codes.ts';

export type TelephonyEndpoint = 'get_data' | 'set_data' | 'set_status';

export interface TelephonyExample {
  /** Key in the OpenAPI examples map. */
  key: string;
  summary: string;
  method: 'GET' | 'POST';
  /** The parameters, as query string (GET) or form body (POST). */
  params: Readonly<Record<string, string>>;
  answer: Envelope;
  /** This example prefills the operation's "Try it out". */
  tryIt?: true;
}

export const DEMO_KEYS: Readonly<Record<TelephonyEndpoint, string>> = {
  get_data: 'Mindc_2023_get_data',
  set_data: 'Mindc_2023_set_data',
  set_status: 'Mindc_2023_set_status',
};

export const TELEPHONY_EXAMPLES: Readonly<Record<TelephonyEndpoint, readonly TelephonyExample[]>> = {
  get_data: [
    {
      key: 'by_phone',
      summary: 'Who is calling? By DID and phone (the vendor page\'s first example, on the demo)',
      method: 'GET',
      params: { authkey: DEMO_KEYS.get_data, did: '07333333333', phone: '0500000000', project_id: '10', out: 'first_name,last_status,repository_name' },
      answer: {
        code: 0,
        status: 'success',
        message: [
          { uid: '123', first_name: 'John', last_status: null, repository_name: 'Leads' },
          { uid: '123', first_name: 'John', last_status: null, repository_name: 'VIP' },
        ],
      },
      tryIt: true,
    },
    {
      key: 'by_assign',
      summary: 'By repository_assign_id (the vendor page\'s second example; the demo has no customer_name field, so it answers null)',
      method: 'POST',
      params: { authkey: DEMO_KEYS.get_data, repository_assign_id: '2190811', out: 'uid,repository_name,customer_name' },
      answer: { code: 0, status: 'success', message: [{ uid: '123', repository_name: 'Leads', customer_name: null }] },
      tryIt: true,
    },
    {
      key: 'no_match',
      summary: 'A number nobody has: success with an empty list',
      method: 'GET',
      params: { authkey: DEMO_KEYS.get_data, did: '07333333333', phone: '0509999999', project_id: '10', out: 'first_name' },
      answer: { code: 0, status: 'success', message: [] },
    },
    {
      key: 'code_3',
      summary: 'The vendor page\'s failure example: no phone',
      method: 'GET',
      params: { authkey: DEMO_KEYS.get_data, did: '07333333333', project_id: '10', out: 'first_name' },
      answer: { code: 3, status: 'fail', message: 'Missing phone' },
    },
  ],
  set_data: [
    {
      key: 'status_by_phone',
      summary: 'Set a status by phone and project (the vendor page\'s "Update Status Only", with the demo\'s DID and project)',
      method: 'GET',
      params: { authkey: DEMO_KEYS.set_data, did: '07333333333', phone: '972500000000', project_id: '10', status_id: '10' },
      answer: { code: 0, status: 'success', message: 'Status set successfully', repository_assign_id: '2190811' },
      tryIt: true,
    },
    {
      key: 'fields',
      summary: 'Write back fields by repository_assign_id (the vendor page\'s form example)',
      method: 'POST',
      params: { authkey: DEMO_KEYS.set_data, repository_assign_id: '555', first_name: 'Jane', email: 'jane@example.com' },
      answer: { code: 0, status: 'success', message: "first_name was updated to 'Jane', email was updated to 'jane@example.com'", repository_assign_id: '555' },
      tryIt: true,
    },
    {
      key: 'fields_and_status',
      summary: 'Data and status together, with worker_id (the vendor page\'s third example)',
      method: 'POST',
      params: { authkey: DEMO_KEYS.set_data, repository_assign_id: '555', city: 'New York', status_id: '2', worker_id: '99' },
      answer: { code: 0, status: 'success', message: "city was updated to 'New York', Status set successfully", repository_assign_id: '555' },
    },
    {
      key: 'partial',
      summary: 'Partial success: an invalid field is left out and reported in errors, the rest is applied',
      method: 'GET',
      params: { authkey: DEMO_KEYS.set_data, repository_assign_id: '555', email: 'not-an-email', status_id: '10' },
      answer: { code: 0, status: 'success', message: 'Status set successfully', errors: { email: 'not a valid email address' }, repository_assign_id: '555' },
    },
  ],
  set_status: [
    {
      key: 'set',
      summary: 'Set a status (the vendor page\'s example)',
      method: 'GET',
      params: { authkey: DEMO_KEYS.set_status, repository_assign_id: '555', status_id: '10' },
      answer: { code: 0, status: 'success', message: 'Status set successfully' },
      tryIt: true,
    },
    {
      key: 'clear',
      summary: 'Clear the status with status_id 0 (the vendor page\'s form example)',
      method: 'POST',
      params: { authkey: DEMO_KEYS.set_status, repository_assign_id: '555', status_id: '0' },
      answer: { code: 0, status: 'success', message: 'Status set successfully' },
      tryIt: true,
    },
  ],
};

/**
 * The demo's ids, as the examples of the admin API's path parameters of those names: after *Authorize*,
 * "Try it out" on e.g. GET /admin/v1/customers/{customer_id} answers the demo's John Doe.
 */
export const DEMO_PATH_IDS: Readonly<Record<string, string>> = {
  project_id: '10',
  customer_id: '123',
  assign_id: '555',
  repository_id: '7',
};
