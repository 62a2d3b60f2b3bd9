// The import rules `npm run lint` enforces (dependency-cruiser). Layers import one way:
//   cli/  →  builder/ (plan → solve → ops; outputs over solve)  →  snapshotter/  →  src/  →  native/
// src/ holds the libraries (OCI types, store, registry, http, progress, outputs); it never reaches
// up into the builder or the snapshotter, and nothing imports the CLI.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "nothing-imports-the-cli",
      severity: "error",
      from: { pathNot: "^cli/" },
      to: { path: "^cli/" },
    },
    {
      name: "src-libraries-stay-below",
      comment: "src/ is the libraries: no builder, snapshotter or CLI code",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(builder|snapshotter|cli)/" },
    },
    {
      name: "snapshotter-below-builder",
      severity: "error",
      from: { path: "^snapshotter/" },
      to: { path: "^(builder|cli)/" },
    },
    {
      name: "native-is-the-bottom",
      severity: "error",
      from: { path: "^native/" },
      to: { path: "^(src|builder|snapshotter|cli)/" },
    },
    {
      name: "ops-below-the-phases",
      comment: "an op gives its key inputs and does its work; the solver runs it, not the other way",
      severity: "error",
      from: { path: "^builder/(ops|cache|context|dockerfile)/" },
      to: { path: "^builder/(plan|solve|outputs)/|^builder/build\\.ts$" },
    },
    {
      name: "plan-is-pure",
      comment: "the plan phase reads the Dockerfile; it runs nothing",
      severity: "error",
      from: { path: "^builder/plan/" },
      to: { path: "^builder/(solve|outputs|ops|cache)/|^snapshotter/|^native/" },
    },
    {
      name: "solve-below-outputs",
      severity: "error",
      from: { path: "^builder/solve/" },
      to: { path: "^builder/outputs/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules|native/build)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
