import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigFileSchema, type ConfigFile } from './schema.js';

/** A config file that could not be used: where and why, without echoing its contents. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates config text; every problem is reported with its path. */
export function parseConfig(text: string, file: string): ConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 50 }) ?? {};
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(file, [`not valid YAML${line ? ` (line ${line})` : ''}`]);
  }
  const result = ConfigFileSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ConfigFileSchema.parse({});
    throw new ConfigError(path, ['cannot be read']);
  }
  return parseConfig(text, path);
}
