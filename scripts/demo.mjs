// The README's first command. Issue #7 turns this into the real demo (200 concurrent tests in
// the sandbox against TRUNCATE between tests, on an embedded PostgreSQL when none is configured).
console.log('sqlsandbox demo: not built yet (issue #7). Run the tests with: npx pnpm@12.4.2 test')
