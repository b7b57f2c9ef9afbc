/** What the server tells the browser code: issuer, client id, and the app's own URL. */
export interface AppConfig {
  issuer: string;
  clientId: string;
  /** App B's origin: the base of the redirect URI, and the resource its access tokens are for. */
  appUrl: string;
  /** The leeway of the ID token's time checks, in seconds (APP_B_CLOCK_TOLERANCE_SEC; 0 is strict). */
  clockToleranceSec: number;
}

export async function loadAppConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`config.json answered HTTP ${response.status}`);
  const config = (await response.json()) as Partial<AppConfig>;
  if (
    typeof config.issuer !== 'string' ||
    typeof config.clientId !== 'string' ||
    typeof config.appUrl !== 'string' ||
    typeof config.clockToleranceSec !== 'number'
  ) {
    throw new Error('config.json is incomplete');
  }
  return config as AppConfig;
}

/** The one redirect URI app B registered: its root page (the browser code runs there). */
export const redirectUri = (config: AppConfig): string => `${config.appUrl}/`;
