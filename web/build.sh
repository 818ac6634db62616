#!/bin/sh
# Rebuild the browser bundles that service/web serves, from the pinned packages of
# package-lock.json. The bundles and their licences are committed, so installing and running
# the service needs no Node; run this only after changing package.json or src/.
#
#   cd web && npm ci && sh build.sh
set -eu
cd "$(dirname "$0")"
out=../service/web/static/vendor
mkdir -p "$out"
for entry in modeler viewer dmn; do
  npx esbuild "src/$entry.js" --bundle --minify --format=iife --target=es2020 \
    --legal-comments=none --metafile="meta-$entry.json" --outfile="$out/$entry.js"
  npx esbuild "src/$entry.css" --bundle --minify --loader:.woff=dataurl --loader:.woff2=dataurl \
    --loader:.ttf=dataurl --loader:.eot=dataurl --loader:.svg=dataurl --outfile="$out/$entry.css"
done
node licences.mjs "$out" meta-modeler.json meta-viewer.json meta-dmn.json
rm -f meta-*.json
