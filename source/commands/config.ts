import fs from 'node:fs';
import type {Options} from '../app/args.js';
import {loadConfig, redactNotify} from '../config/index.js';
import type {Io} from '../app/io.js';

// `envwatch config path` and `config show`.

/** `config show`: the effective configuration and the layers it came from (later wins). */
export function describeLayers(options: Options, io: Io): string {
	const {config, layers} = loadConfig({configFile: options.configFile, env: io.env});
	const sources = layers.map(layer => ({label: layer.label, ...(layer.path ? {path: layer.path, exists: fs.existsSync(layer.path)} : {})}));
	// A secret written into the configuration itself is never printed; `regions: "all"` reads as written.
	const {allRegions, ...plain} = config;
	const asWritten = allRegions ? {...plain, regions: 'all'} : plain;
	const shown = config.notify ? {...asWritten, notify: redactNotify(config.notify)} : asWritten;
	if (options.json) {
		return JSON.stringify({config: shown, layers: sources}, null, 2);
	}

	const lines = sources.map(layer => `//   ${layer.label}${layer.path ? `: ${layer.path}${layer.exists ? '' : ' (not created yet)'}` : ''}`);
	return `// effective configuration, from (later wins):\n${lines.join('\n')}\n${JSON.stringify(shown, null, 2)}`;
}
