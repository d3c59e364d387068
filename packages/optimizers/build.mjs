/**
 * Builds @optevo/optimizers from the repository's sources (dsl/, seeds/,
 * src/optimizer*.ts and the wrappers): one ES module and one CommonJS file,
 * each a bundle of those sources with `@tensorflow/tfjs-core` left as an
 * import, plus type declarations. The seed programs are embedded as strings:
 * `seeds/source.ts`, which reads them from disk in Node, is replaced by a
 * module holding every `.opt` file's text, so the library reads no file and
 * runs in a browser. No source maps: the tarball holds no sources to map to.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const seedsDir = join(root, 'seeds');
const dist = join(here, 'dist');

/** Every program file under seeds/, by its path there ('adam.opt', 'tfjs/adagrad.opt'). */
function seedFiles() {
  const out = {};
  for (const entry of readdirSync(seedsDir, { recursive: true })) {
    const file = String(entry).split('\\').join('/');
    if (file.endsWith('.opt')) out[file] = readFileSync(join(seedsDir, file), 'utf8');
  }
  if (!out['sgd.opt']) throw new Error(`build: no seed programs found in ${seedsDir}`);
  return out;
}

const embedSeeds = {
  name: 'embed-seeds',
  setup(b) {
    const sourceModule = join(seedsDir, 'source.ts');
    b.onResolve({ filter: /^\.\/source\.js$/ }, (args) =>
      join(args.resolveDir, 'source.ts') === sourceModule ? { path: 'seed-files', namespace: 'optevo-embedded' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'optevo-embedded' }, () => ({
      loader: 'js',
      contents: `// The seed programs, embedded at build time (see seeds/source.ts).
const FILES = ${JSON.stringify(seedFiles(), null, 0)};
export function readSeedFile(file) {
  const text = FILES[file];
  if (text === undefined) throw new Error("@optevo/optimizers: no program file 'seeds/" + file + "' in this build");
  return text;
}
export function seedFilePath(file) {
  throw new Error("@optevo/optimizers: the library embeds its programs and has no file 'seeds/" + file + "' (the optevo package has them)");
}
`,
    }));
  },
};

/**
 * The library's one dependency is the tfjs-core peer: any other package or
 * Node built-in reached from its sources is a build error (it would either be
 * bundled in or break the browser), naming the importer.
 */
const leanImports = {
  name: 'lean-imports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === '@tensorflow/tfjs-core' || args.namespace === 'optevo-embedded') return undefined;
      return { errors: [{ text: `@optevo/optimizers may import only @tensorflow/tfjs-core, but ${relative(root, args.importer)} imports '${args.path}'` }] };
    });
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  entryPoints: [join(here, 'src', 'index.ts')],
  bundle: true,
  platform: 'neutral',
  target: 'es2020',
  external: ['@tensorflow/tfjs-core'],
  plugins: [embedSeeds, leanImports],
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning',
};
await build({ ...common, format: 'esm', outfile: join(dist, 'index.js') });
await build({ ...common, format: 'cjs', outfile: join(dist, 'index.cjs') });

// Declarations: tsc over the entry and what it imports, then one index.d.ts
// that re-exports them.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
const entryTypes = relative(dist, join(dist, 'types', 'packages', 'optimizers', 'src', 'index.js')).split('\\').join('/');
writeFileSync(join(dist, 'index.d.ts'), `export * from './${entryTypes}';\n`);
copyFileSync(join(root, 'LICENSE'), join(here, 'LICENSE'));
