export declare const CONSOLE_DIST: string;
export declare function buildConsole(outdir?: string): Promise<{ js: string; css: string; outdir: string }>;
