// Import boundaries of src/ (DESIGN.md, "Rules the lint step enforces"), checked by
// `npm run lint` through dependency-cruiser: a violation fails the build. Test files may
// reach across folders (they exercise seams); fakes of a seam are named *.fake.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "No import cycles: each folder sits on the floors below it.",
      from: { path: "^src/", pathNot: "\\.test\\.ts$" },
      to: { circular: true, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-type-cycles",
      severity: "error",
      comment: "No cycles through type imports either: shared types live on the message/ floor.",
      from: { path: "^src/", pathNot: "\\.test\\.ts$" },
      to: { circular: true },
    },
    {
      name: "message-is-the-floor",
      severity: "error",
      comment: "message/ (the Transaction model and shared types) imports nothing above it.",
      from: { path: "^src/message/", pathNot: "\\.test\\.ts$" },
      to: { path: "^src/", pathNot: "^src/message/" },
    },
    {
      name: "filters-never-reach-a-protocol",
      severity: "error",
      comment: "Filters return results; they never import the front ends or the web.",
      from: { path: "^src/filters/", pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(smtp|milter|web)/" },
    },
    {
      name: "sieve-has-no-store",
      severity: "error",
      comment: "The Sieve language never touches storage.",
      from: { path: "^src/sieve/", pathNot: "\\.test\\.ts$" },
      to: { path: "^src/store/" },
    },
    {
      name: "web-reaches-delivery-through-quarantine",
      severity: "error",
      comment: "The console releases and sends only through quarantine/ (its release rules).",
      from: { path: "^src/web/", pathNot: "\\.test\\.ts$" },
      to: { path: "^src/(delivery|smtp|milter)/" },
    },
    {
      name: "only-front-ends-speak-protocols",
      severity: "error",
      comment: "Nothing below the front ends imports smtp/ or milter/ (delivery, quarantine, pipeline …).",
      from: {
        path: "^src/",
        pathNot: ["^src/(smtp|milter|cli|cluster)/", "^src/runtime\\.ts$", "\\.test\\.ts$"],
      },
      to: { path: "^src/(smtp|milter)/" },
    },
    {
      name: "fakes-only-in-tests",
      severity: "error",
      comment:
        "Test fakes of a seam (*.fake.ts) are for tests and benchmarks only (a conformance/ folder is test code: its suites load test vectors).",
      from: { path: "^src/", pathNot: ["\\.(test|fake)\\.ts$", "/conformance/"] },
      to: { path: "\\.fake\\.ts$" },
    },
    {
      name: "conformance-only-in-tests",
      severity: "error",
      comment: "A conformance/ folder holds test suites and vectors; production code never imports it.",
      from: { path: "^src/", pathNot: ["\\.(test|fake)\\.ts$", "/conformance/"] },
      to: { path: "/conformance/" },
    },
    {
      name: "no-test-helpers-in-src",
      severity: "error",
      comment: "Production code never imports test helpers.",
      from: { path: "^src/", pathNot: "\\.(test|fake)\\.ts$" },
      to: { path: "^test/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|web/|dist/|var/)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
