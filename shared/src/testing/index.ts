/** Test helpers shared by the issuer's and the apps' test suites. */
export * from './cookie-jar.js';
export * from './eventually.js';
export * from './foreign-listener.js';
export * from './jwt-forgeries.js';
export * from './pkce.js';
export * from './throwaway-postgres.js';
export * from './fedcm-browser.js';
