/**
 * The MCP registry's server.json schema, 2025-12-11
 * (https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json): no npm package
 * ships it and the tests reach no other host, so this is a faithful copy of what it requires,
 * written as a checker. What is copied: the required fields of the server, of a package, of the
 * stdio and streamable-http transports, of inputs and key/value inputs; the name pattern and
 * lengths; the description's 1–100 characters; versions that are exact (no range, not `latest`);
 * the enums (input formats, transport types); and the official registry's rule that an npm
 * package names its version. `problems` is empty for a valid document.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const RANGE = /^[\^~<>=]|^\*$|\.x\b|\.\*|\s-\s|\|\|/;
const INPUT_FORMATS = ['string', 'number', 'boolean', 'filepath'];

function checkInput(input: unknown, where: string, problems: string[]): void {
  if (!isObject(input)) {
    problems.push(`${where} must be an object`);
    return;
  }
  for (const key of ['description', 'value', 'default', 'placeholder'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'string') problems.push(`${where}.${key} must be a string`);
  }
  for (const key of ['isRequired', 'isSecret'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean') problems.push(`${where}.${key} must be a boolean`);
  }
  if (input.format !== undefined && !(typeof input.format === 'string' && INPUT_FORMATS.includes(input.format))) problems.push(`${where}.format must be one of ${INPUT_FORMATS.join(', ')}`);
  if (input.choices !== undefined && !(Array.isArray(input.choices) && input.choices.every((c) => typeof c === 'string'))) {
    problems.push(`${where}.choices must be an array of strings`);
  }
  if (input.variables !== undefined) {
    if (!isObject(input.variables)) problems.push(`${where}.variables must be an object`);
    else for (const [name, variable] of Object.entries(input.variables)) checkInput(variable, `${where}.variables.${name}`, problems);
  }
}

function checkKeyValues(list: unknown, where: string, problems: string[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    problems.push(`${where} must be an array`);
    return;
  }
  list.forEach((item, i) => {
    checkInput(item, `${where}[${i}]`, problems);
    if (!isObject(item) || typeof item.name !== 'string' || item.name === '') problems.push(`${where}[${i}].name is required`);
  });
}

function checkRemote(transport: unknown, where: string, problems: string[], allowStdio: boolean): void {
  if (!isObject(transport)) {
    problems.push(`${where} must be an object`);
    return;
  }
  const types = allowStdio ? ['stdio', 'streamable-http', 'sse'] : ['streamable-http', 'sse'];
  if (!types.includes(String(transport.type))) problems.push(`${where}.type must be one of ${types.join(', ')}`);
  if (transport.type === 'stdio') return;
  if (typeof transport.url !== 'string' || !/^(https?:\/\/|\{)[^\s]+$/.test(transport.url)) problems.push(`${where}.url must be an http(s) URL (template)`);
  checkKeyValues(transport.headers, `${where}.headers`, problems);
  if (transport.variables !== undefined) {
    if (!isObject(transport.variables)) problems.push(`${where}.variables must be an object`);
    else for (const [name, variable] of Object.entries(transport.variables)) checkInput(variable, `${where}.variables.${name}`, problems);
  }
}

function checkVersion(value: unknown, where: string, problems: string[]): void {
  if (typeof value !== 'string' || value === '' || value.length > 255) problems.push(`${where} must be a string of 1 to 255 characters`);
  else if (value === 'latest' || RANGE.test(value)) problems.push(`${where} must be one exact version, not '${value}'`);
}

export function serverJsonProblems(document: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(document)) return ['server.json must be an object'];
  if (typeof document.$schema !== 'string' || !/^https:\/\/static\.modelcontextprotocol\.io\/schemas\/[\d-]+\/server\.schema\.json$/.test(document.$schema)) {
    problems.push('$schema must name a published server.schema.json');
  }
  const name = document.name;
  if (typeof name !== 'string' || !/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/.test(name) || name.length < 3 || name.length > 200) {
    problems.push('name must be namespace/name in reverse-DNS form, 3 to 200 characters');
  }
  if (typeof document.description !== 'string' || document.description.length < 1 || document.description.length > 100) {
    problems.push('description must be 1 to 100 characters');
  }
  checkVersion(document.version, 'version', problems);
  if (document.repository !== undefined) {
    const repo = document.repository;
    if (!isObject(repo) || typeof repo.url !== 'string' || typeof repo.source !== 'string') problems.push('repository needs url and source');
  }
  if (document.websiteUrl !== undefined && !(typeof document.websiteUrl === 'string' && /^https?:\/\//.test(document.websiteUrl))) {
    problems.push('websiteUrl must be a URL');
  }
  const packages = document.packages ?? [];
  if (!Array.isArray(packages)) problems.push('packages must be an array');
  else {
    packages.forEach((entry: unknown, i) => {
      const where = `packages[${i}]`;
      if (!isObject(entry)) {
        problems.push(`${where} must be an object`);
        return;
      }
      for (const key of ['registryType', 'identifier'] as const) {
        if (typeof entry[key] !== 'string' || entry[key] === '') problems.push(`${where}.${key} is required`);
      }
      if (entry.transport === undefined) problems.push(`${where}.transport is required`);
      else checkRemote(entry.transport, `${where}.transport`, problems, true);
      if (entry.registryType === 'npm' || entry.version !== undefined) checkVersion(entry.version, `${where}.version`, problems);
      checkKeyValues(entry.environmentVariables, `${where}.environmentVariables`, problems);
      const allowed = new Set(['registryType', 'registryBaseUrl', 'identifier', 'version', 'fileSha256', 'runtimeHint', 'transport', 'runtimeArguments', 'packageArguments', 'environmentVariables']);
      for (const key of Object.keys(entry)) if (!allowed.has(key)) problems.push(`${where}.${key} is not a package field`);
    });
  }
  const remotes = document.remotes ?? [];
  if (!Array.isArray(remotes)) problems.push('remotes must be an array');
  else remotes.forEach((remote: unknown, i) => checkRemote(remote, `remotes[${i}]`, problems, false));
  return problems;
}
