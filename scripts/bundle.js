// @ts-check
/**
 * `npm run bundle [-- OUT_DIR]`: the MCP bundle (.mcpb) for Claude Desktop, packed by the official
 * `mcpb` tool. It stages the built program (dist/cli.js and its chunks), manifest.json and a
 * production node_modules, then runs `mcpb pack` on the folder.
 *
 * better-sqlite3 is a native addon compiled for one platform, CPU and Node.js ABI, so a bundle
 * is too: the staged manifest says so in `compatibility` (this platform, this Node major), and the
 * file name carries platform, CPU and Node major. The addon is the one `npm ci` built or fetched
 * for this machine (node_modules/better-sqlite3/build), copied rather than compiled again.
 * Build one bundle per platform you ship, on that platform.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';

const root = process.cwd();
const out = resolve(process.argv[2] ?? join(root, 'dist', 'mcpb'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** @param {string} path */
const readJson = (path) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const pkg = readJson('package.json');
const manifest = readJson('manifest.json');
if (manifest.version !== pkg.version) throw new Error(`manifest.json is version ${manifest.version}, package.json ${pkg.version}: run npm run docs`);
if (!existsSync(join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build first');

const nodeMajor = Number(process.versions.node.split('.')[0]);
// The part of `engines` for this Node major (`^20.9.0`, `>=24.0.0 <24.19.0`): what the addon built here runs on.
const runtime = String(pkg.engines.node)
  .split('||')
  .map((range) => range.trim())
  .find((range) => range.startsWith(`^${nodeMajor}.`) || range.startsWith(`>=${nodeMajor}.`));
if (runtime === undefined) throw new Error(`Node ${process.versions.node} is not one package.json's engines support (${pkg.engines.node})`);
const stage = mkdtempSync(join(tmpdir(), 'refundkit-mcpb-'));
try {
  // The program: the bundle rolldown wrote (everything but the dependencies left external).
  mkdirSync(join(stage, 'dist', 'chunks'), { recursive: true });
  cpSync(join(root, 'dist', 'cli.js'), join(stage, 'dist', 'cli.js'));
  for (const file of readdirSync(join(root, 'dist', 'chunks')).filter((name) => name.endsWith('.js'))) {
    cpSync(join(root, 'dist', 'chunks', file), join(stage, 'dist', 'chunks', file));
  }
  for (const file of ['README.md', 'LICENSE']) cpSync(join(root, file), join(stage, file));

  // Production dependencies at the lockfile's versions, from npm's cache; no install scripts.
  cpSync(join(root, 'package.json'), join(stage, 'package.json'));
  cpSync(join(root, 'package-lock.json'), join(stage, 'package-lock.json'));
  // Run from `npm run bundle`, the environment names this repository's package and folder: drop them.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/.test(name)),
  );
  execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: stage, env, stdio: 'inherit' });
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const staged = JSON.parse(readFileSync(join(stage, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version;
  const built = readJson('node_modules/better-sqlite3/package.json').version;
  if (staged !== built) throw new Error(`better-sqlite3 ${staged} in the bundle but ${built} built here: run npm ci`);
  mkdirSync(join(stage, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
  cpSync(join(root, addon), join(stage, addon));

  // What the bundle needs to run: a package.json that makes dist/*.js ES modules, nothing else.
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module', license: pkg.license, dependencies: pkg.dependencies }, null, 2)}\n`,
  );
  rmSync(join(stage, 'package-lock.json'));
  writeFileSync(
    join(stage, 'manifest.json'),
    `${JSON.stringify(
      {
        ...manifest,
        compatibility: {
          ...manifest.compatibility,
          platforms: [process.platform],
          runtimes: { node: runtime },
        },
      },
      null,
      2,
    )}\n`,
  );

  mkdirSync(out, { recursive: true });
  const file = join(out, `${pkg.name}-${pkg.version}-${process.platform}-${process.arch}-node${nodeMajor}.mcpb`);
  rmSync(file, { force: true });
  execFileSync(join(root, 'node_modules', '.bin', 'mcpb'), ['pack', stage, file], { stdio: 'inherit' });
  process.stdout.write(`${file}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
