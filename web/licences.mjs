// Copy the licence of every npm package that ended up in a bundle into LICENSES/, and list
// them (name, version, licence) in LICENSES/README.txt, from esbuild's metafiles.
import fs from "node:fs";
import path from "node:path";

const [out, ...metafiles] = process.argv.slice(2);
const dir = path.join(out, "LICENSES");
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const packages = new Map();
for (const file of metafiles) {
  const meta = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const input of Object.keys(meta.inputs)) {
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (m) packages.set(m[1], path.join("node_modules", m[1]));
  }
}
const lines = ["Packages bundled into vendor/*.js and vendor/*.css (built by web/build.sh):", ""];
for (const [name, root] of [...packages].sort()) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const licence = fs.readdirSync(root).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const target = name.replace("/", "__") + ".txt";
  if (licence) fs.copyFileSync(path.join(root, licence), path.join(dir, target));
  lines.push(`${name} ${pkg.version} ${pkg.license || "see file"}${licence ? " -> " + target : " (no licence file in the package)"}`);
}
fs.writeFileSync(path.join(dir, "README.txt"), lines.join("\n") + "\n");
console.log(`${packages.size} packages, licences in ${dir}`);
