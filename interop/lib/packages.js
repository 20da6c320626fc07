'use strict';
// Reads FHIR package .tgz files (the official ones in ../shared/fhir-packages) at run time, in
// memory: nothing is unpacked to disk or copied into the repository.
const fs = require('fs');
const zlib = require('zlib');

// readTar yields {name, data} for each regular file of a tar archive (ustar, with the pax and
// GNU long-name headers npm and the FHIR publisher write).
function* readTar(buf) {
  let off = 0;
  let longName = null;
  while (off + 512 <= buf.length) {
    const hdr = buf.subarray(off, off + 512);
    if (hdr.every((b) => b === 0)) break;
    const str = (a, b) => hdr.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    let name = str(0, 100);
    const prefix = str(345, 500);
    if (prefix) name = `${prefix}/${name}`;
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(hdr[156] || 48);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = data.toString('utf8').replace(/\0.*$/s, ''); continue; }
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (longName) { name = longName; longName = null; }
    if (type === '0' || type === '\0') yield { name, data };
  }
}

// readPackage returns the package's manifest and every JSON resource in it, each with the folder
// it came from (package/ or package/example/).
function readPackage(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  let manifest = {};
  const resources = [];
  for (const { name, data } of readTar(tar)) {
    if (!name.endsWith('.json')) continue;
    if (name === 'package/package.json') { manifest = JSON.parse(data.toString('utf8')); continue; }
    const folder = name.slice(0, name.lastIndexOf('/'));
    if (folder !== 'package' && folder !== 'package/example') continue;
    let res;
    try { res = JSON.parse(data.toString('utf8')); } catch { continue; }
    if (res && typeof res.resourceType === 'string' && typeof res.id === 'string') resources.push({ folder, resource: res });
  }
  return { manifest, resources };
}

module.exports = { readPackage };
