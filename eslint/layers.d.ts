import type { ESLint } from 'eslint';

export interface Layer {
  holds: string[];
  mayImport: string[];
  packages: RegExp[];
  why: string;
}
export declare const LAYERS: Record<string, Layer>;
export declare function layerOf(relative: string): string | undefined;
declare const plugin: ESLint.Plugin;
export default plugin;
