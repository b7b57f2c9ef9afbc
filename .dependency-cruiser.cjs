/**
 * The import graph's rules (npm run lint): requests flow one way, route → protocol → store, and
 * nothing imports in a circle. See docs/architecture.md, "Layers".
 */
module.exports = {
  forbidden: [
    {
      name: 'not-unresolvable',
      severity: 'error',
      comment: 'An import the checker cannot resolve is one no rule can judge.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one concept split in two, or a layer imported upwards.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'store-stays-below',
      severity: 'error',
      comment: 'The store is the bottom layer: it never imports protocol logic, routes, HTTP or views.',
      from: { path: '^idp/src/store/' },
      to: { path: '^idp/src/(protocol|routes|http|views|cli|keys|status-list|app|issuer)' },
    },
    {
      name: 'model-stands-below-all',
      severity: 'error',
      comment: 'The model holds types both the store and protocol logic use: it imports nothing of theirs.',
      from: { path: '^idp/src/model/' },
      to: { path: '^(idp/src/(?!model/)|node_modules/)' },
    },
    {
      name: 'protocol-below-http',
      severity: 'error',
      comment: 'Protocol logic knows no HTTP framework: routes translate requests into its calls.',
      from: { path: '^idp/src/(protocol|keys|status-list|crypto)/' },
      to: { path: '^(idp/src/(routes|http|views|app\\.ts)|node_modules/hono/)' },
    },
    {
      name: 'workers-above-protocol',
      severity: 'error',
      comment: 'Background workers (queues, retries, outbound HTTP) call protocol logic, never the reverse.',
      from: { path: '^idp/src/(protocol|store|keys|crypto|model|status-list)/' },
      to: { path: '^idp/src/workers/' },
    },
    {
      name: 'no-drizzle-above-store',
      severity: 'error',
      comment:
        "Only a store touches the database, one per program: the issuer's (idp/src/store) and the " +
        "relying apps' (the kit's shared/src/store, which both apps open).",
      from: { path: '^(idp|shared|relying-apps/[^/]+|scripts)/src/', pathNot: '^(idp|shared)/src/store/' },
      to: { path: '^node_modules/(drizzle-orm|better-sqlite3|pg|pg-pool|postgres)/' },
    },
    {
      name: 'kit-store-stays-below',
      severity: 'error',
      comment: "The kit's store keeps state; it knows no HTTP, no token verification and no Hono.",
      from: { path: '^shared/src/store/' },
      to: { path: '^(shared/src/(hono|http|rp/(?!server-state)|verify/(?!jti-store)|jwks|status)|node_modules/hono/)' },
    },
    {
      name: 'shared-kit-stands-alone',
      severity: 'error',
      comment: 'The shared kit is for any app: it imports no issuer or demo-app code.',
      from: { path: '^shared/' },
      to: { path: '^(idp|relying-apps|scripts)/' },
    },
    {
      name: 'no-async-hooks',
      severity: 'error',
      comment:
        'On Node 20 an AsyncLocalStorage (or any async hook) runs on every promise of every request once ' +
        "used: about a tenth of a token request's CPU. Per-request state goes by the Hono context.",
      from: { path: '^(idp|shared|relying-apps/[^/]+)/src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(node:)?async_hooks$' },
    },
    {
      name: 'apps-do-not-reach-into-the-issuer',
      severity: 'error',
      comment: 'Relying apps verify tokens with public keys only; they never import the issuer.',
      from: { path: '^relying-apps/[^/]+/src/' },
      to: { path: '^idp/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(idp|shared|scripts|relying-apps/[^/]+)/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['@tessera/source', 'import', 'node', 'default'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
