export declare const BUDGET: number;
export declare function consoleSizes(dir: string): { name: string; bytes: number; gzip: number }[];
