/** The types of scripts/package-lambda.mjs, for the tests that use it. */
export type ZipEntry = {name: string; data: Uint8Array};
export function crc32(bytes: Uint8Array): number;
export function zip(entries: ZipEntry[]): Buffer;
export function lambdaEntries(): ZipEntry[];
