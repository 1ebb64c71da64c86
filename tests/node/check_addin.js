// Microsoft's own tools on the add-in roi-xl writes, offline: custom-functions-metadata derives
// the metadata from functions.js (its JSDoc tags) and reports any invalid id, name or type;
// office-addin-manifest reads manifest.xml as Office tooling does. Prints both as JSON.
"use strict";
const path = require("path");
const { generateCustomFunctionsMetadata } = require("custom-functions-metadata");
const { OfficeAddinManifest } = require("office-addin-manifest");

async function main() {
  const folder = process.argv[2];
  const generated = await generateCustomFunctionsMetadata(path.join(folder, "functions.js"));
  const manifest = await OfficeAddinManifest.readManifestFile(path.join(folder, "manifest.xml"));
  process.stdout.write(
    JSON.stringify({
      metadata: generated.metadataJson ? JSON.parse(generated.metadataJson) : null,
      associate: generated.associate,
      errors: generated.errors,
      manifest,
    })
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
