#!/usr/bin/env node
/**
 * The packages as users get them. Packs `@optevo/optimizers` and `optevo`
 * (from the current build: run `npm run build` first), installs each into a
 * scratch project from the local tarballs (tfjs from npm's cache: nothing
 * else is fetched), and then:
 *
 * - trains the same small model with the library from Node ESM and from
 *   CommonJS `require`, and with `optevo` (the full package);
 * - bundles the library for the browser with esbuild and with Vite, serves
 *   each page on localhost and runs it in headless Chromium (Debian's
 *   `chromium`, driven by playwright-core);
 * - checks that every run gives the same weights (cpu backend) and that the
 *   loss fell;
 * - measures the library's install (packages, MB, seconds) against
 *   `@tensorflow/tfjs` alone, its tarball, and the minified, gzipped browser
 *   bundle of `optimizers.adamw` plus tfjs-core against tfjs-core alone.
 *
 * Usage: node scripts/package-check.mjs [--keep]   (CHROMIUM=/path overrides /usr/bin/chromium)
 * Exit status 1 with a one-line reason when a check fails.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const templates = join(root, 'scripts', 'package-check');
const keep = process.argv.includes('--keep');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TFJS = '@tensorflow/tfjs@4.22.0';
const work = mkdtempSync(join(tmpdir(), 'optevo-package-check-'));
const figures = {};

function fail(message) {
  console.error(`package-check: ${message}`);
  process.exit(1);
}

function sh(cmd, args, cwd, extra = {}) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...extra });
  } catch (e) {
    fail(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${(e.stderr || e.stdout || e.message).toString().trim().split('\n').slice(-5).join(' | ')}`);
  }
}

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const out = fn();
  return { out, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function duBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

/** Packages installed: every package.json directly under node_modules/(@scope/)name, nested ones included. */
function countPackages(dir) {
  let n = 0;
  const walk = (nm) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@') ? readdirSync(join(nm, e.name)).map((s) => join(nm, e.name, s)) : [join(nm, e.name)];
      for (const d of dirs) {
        if (existsSync(join(d, 'package.json'))) n++;
        walk(join(d, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return n;
}

const npmInstall = (dir, specs, flags = []) =>
  timed(() => sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...flags, ...specs], dir));

function scratch(name) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, type: 'module' }, null, 2));
  return dir;
}

function nodeRun(dir, file) {
  const out = sh(process.execPath, [file], dir);
  const line = out.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    fail(`${file} printed no result: ${out.slice(-300)}`);
  }
}

// 1. Pack both packages from the current build.
for (const f of ['packages/optimizers/dist/index.js', 'packages/optimizers/dist/index.cjs', 'packages/optimizers/dist/index.d.ts', 'dist/src/index.js'])
  if (!existsSync(join(root, f))) fail(`${f} is missing: run \`npm run build\` first`);
const packDir = join(work, 'tarballs');
mkdirSync(packDir);
const packed = (args) => JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir, ...args], root))[0];
const libPack = packed(['-w', '@optevo/optimizers']);
const cliPack = packed([]);
const libTgz = join(packDir, libPack.filename);
const cliTgz = join(packDir, cliPack.filename);
for (const [p, label] of [
  [libPack, '@optevo/optimizers'],
  [cliPack, 'optevo'],
]) {
  const paths = p.files.map((f) => f.path);
  const maps = paths.filter((f) => f.endsWith('.map'));
  if (maps.length) fail(`${label}'s tarball ships source maps: ${maps.slice(0, 3).join(', ')}`);
  if (!paths.includes('LICENSE')) fail(`${label}'s tarball has no LICENSE`);
  if (paths.some((f) => f.startsWith('dist/bench'))) fail(`${label}'s tarball ships dist/bench`);
}
const libDeps = JSON.parse(readFileSync(join(root, 'packages/optimizers/package.json'), 'utf8'));
if (Object.keys(libDeps.dependencies ?? {}).length) fail(`@optevo/optimizers has dependencies: ${Object.keys(libDeps.dependencies).join(', ')}`);
figures.libraryTarball = { packedKB: +(libPack.size / 1024).toFixed(1), unpackedKB: +(libPack.unpackedSize / 1024).toFixed(1), files: libPack.entryCount };
if (libPack.size > 300 * 1024) fail(`@optevo/optimizers packs to ${figures.libraryTarball.packedKB} kB, over 300 kB`);

// 2. Install: tfjs alone (the baseline), then the library with tfjs.
const base = scratch('tfjs-alone');
const baseInstall = npmInstall(base, [TFJS]);
const lib = scratch('library');
const libInstall = npmInstall(lib, [libTgz, TFJS]);
const measure = (dir, t) => ({ packages: countPackages(dir), MB: +(duBytes(join(dir, 'node_modules')) / 1e6).toFixed(1), seconds: +t.seconds.toFixed(1) });
figures.install = { tfjsAlone: measure(base, baseInstall), libraryWithTfjs: measure(lib, libInstall) };
figures.install.ratio = {
  packages: +(figures.install.libraryWithTfjs.packages / figures.install.tfjsAlone.packages).toFixed(3),
  size: +(figures.install.libraryWithTfjs.MB / figures.install.tfjsAlone.MB).toFixed(3),
};

// 3. Node: ESM and CommonJS.
cpSync(templates, lib, { recursive: true });
const results = { 'node ESM': nodeRun(lib, 'esm.mjs'), 'node CommonJS': nodeRun(lib, 'cjs.cjs') };

// 4. Browser bundles: esbuild and Vite, from the scratch project's node_modules.
const { build: esbuild } = await import('esbuild');
const { build: vite } = await import('vite');
const site = join(lib, 'site');
mkdirSync(join(site, 'esbuild'), { recursive: true });
await esbuild({
  entryPoints: [join(lib, 'web', 'main.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  minify: true,
  outfile: join(site, 'esbuild', 'main.js'),
  logLevel: 'error',
});
writeFileSync(join(site, 'esbuild', 'index.html'), readFileSync(join(lib, 'web', 'index.html'), 'utf8'));
await vite({ root: join(lib, 'web'), configFile: false, logLevel: 'error', base: './', build: { outDir: join(site, 'vite'), emptyOutDir: true } });

// Bundle size: optimizers.adamw plus tfjs-core against tfjs-core alone (minified, gzipped).
const sizeOf = async (entry) => {
  const r = await esbuild({ entryPoints: [join(lib, entry)], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
  const code = r.outputFiles[0].contents;
  return { minKB: +(code.length / 1024).toFixed(1), gzKB: +(gzipSync(code, { level: 9 }).length / 1024).toFixed(1) };
};
const core = await sizeOf('size-core.js');
const withAdamw = await sizeOf('size-adamw.js');
figures.bundle = { tfjsCore: core, adamwPlusTfjsCore: withAdamw, addedGzKB: +(withAdamw.gzKB - core.gzKB).toFixed(1) };

// 5. Headless Chromium on a page served from localhost.
if (!existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM)`);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://localhost').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(site, path.endsWith('/') ? join(path, 'index.html') : path);
  if (!file.startsWith(site) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const { chromium } = await import('playwright-core');
const profile = mkdtempSync(join(tmpdir(), 'optevo-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  for (const bundler of ['esbuild', 'vite']) {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/${bundler}/`);
    await page.waitForFunction(() => window.__result !== undefined || window.__error !== undefined, null, { timeout: 120_000 });
    const { result, error } = await page.evaluate(() => ({ result: window.__result, error: window.__error }));
    if (error || errors.length) fail(`the ${bundler} bundle failed in Chromium: ${error ?? errors[0]}`);
    results[`Chromium (${bundler})`] = result;
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

// 6. The full package, added to the same project (tfjs and the library are
// there already): optevo, install scripts off (its better-sqlite3 would
// compile for a minute; this run opens no database).
const cliInstall = npmInstall(lib, [libTgz, cliTgz, TFJS], ['--ignore-scripts', '--omit=optional']);
results['optevo (Node ESM)'] = nodeRun(lib, 'cli.mjs');
figures.cliInstallSeconds = +cliInstall.seconds.toFixed(1);
const optevoBin = join(lib, 'node_modules', 'optevo', 'dist', 'src', 'cli', 'main.js');
writeFileSync(join(lib, 'found.opt'), sh(process.execPath, [optevoBin, 'seeds', 'lion'], lib));
const checked = sh(process.execPath, [optevoBin, 'check', 'found.opt'], lib).trim();
if (checked !== 'found.opt: ok') fail(`optevo check printed '${checked}', not 'found.opt: ok'`);

// 7. Every run trained, and all agree.
const [refName, ref] = Object.entries(results)[0];
for (const [name, r] of Object.entries(results)) {
  if (!(r.last < r.first / 2)) fail(`${name}: the loss went from ${r.first} to ${r.last}, not below half`);
  if (r.weights.length !== ref.weights.length) fail(`${name}: ${r.weights.length} weights, ${refName} has ${ref.weights.length}`);
  const worst = Math.max(...r.weights.map((w, i) => Math.abs(w - ref.weights[i])));
  if (!(worst <= 1e-6)) fail(`${name}: weights differ from ${refName} by ${worst}`);
  if (JSON.stringify(r.config) !== JSON.stringify(ref.config)) fail(`${name}: getConfig differs from ${refName}`);
}
figures.runs = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { firstLoss: +r.first.toPrecision(4), lastLoss: +r.last.toPrecision(4) }]));

console.log(JSON.stringify(figures, null, 2));
console.log(`package-check: ok (${Object.keys(results).length} runs agree; scratch projects in ${keep ? work : 'a removed temp folder'})`);
if (!keep) rmSync(work, { recursive: true, force: true });
