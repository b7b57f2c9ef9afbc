/**
 * Polls `check` until it holds, or fails after `timeoutMs`: for effects that happen after the
 * answer a test waits for (back-channel deliveries are sent in the background).
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`the condition did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
