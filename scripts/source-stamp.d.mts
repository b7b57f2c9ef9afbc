/** The hash of the sources of the package in `packageDir`, as the stamp holds it. */
export function sourceHash(packageDir: string): string;
/** The hash the package's build was stamped with, or `undefined` when it has no stamp. */
export function builtFrom(packageDir: string): string | undefined;
