// `npm run package:lambda`: the Lambda function's zip, dist/envwatch-lambda.zip, from the bundle
// `npm run build` made (dist/lambda/: lambda.js, the handler, and the chunks it loads, with the AWS
// SDK in them, tree-shaken as the CLI's AWS chunk is). The zip holds, at its root, lambda.js
// (Handler: lambda.handler) and its chunks, a package.json that makes them ES modules and names the
// version, and config/default.json (the shipped defaults the configuration is read over). Written by the small zip writer below (deflate
// from Node's zlib, no new dependency): the same inputs make the same bytes, so its SHA-256 names
// a build. Prints the zip's path, size and SHA-256.
import {Buffer} from 'node:buffer';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import zlib from 'node:zlib';

const root = fileURLToPath(new URL('../', import.meta.url));

const crcTable = Array.from({length: 256}, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) {
		c = c & 1 ? 0xED_B8_83_20 ^ (c >>> 1) : c >>> 1;
	}

	return c >>> 0;
});

export function crc32(bytes) {
	let crc = 0xFF_FF_FF_FF;
	for (const byte of bytes) {
		crc = crcTable[(crc ^ byte) & 0xFF] ^ (crc >>> 8);
	}

	return (crc ^ 0xFF_FF_FF_FF) >>> 0;
}

/**
 * A zip of `entries` ({name, data}): each deflated, with a CRC-32, mode 0644 (Lambda's runtime
 * user must be able to read every file), and one fixed time (2026-01-01 00:00), so that the bytes
 * depend on the contents only.
 */
export function zip(entries) {
	const time = 0;
	const date = ((2026 - 1980) << 9) | (1 << 5) | 1;
	const locals = [];
	const centrals = [];
	let offset = 0;
	for (const {name, data} of entries) {
		const nameBytes = Buffer.from(name, 'utf8');
		const deflated = zlib.deflateRawSync(data, {level: 9});
		const crc = crc32(data);
		// The fields both headers carry, in the same order: version needed, flags, method, time, date,
		// CRC, sizes and the name's length (the central one has "made by" before them).
		const shared = (header, at) => {
			header.writeUInt16LE(20, at);
			header.writeUInt16LE(0x08_00, at + 2); // UTF-8 names
			header.writeUInt16LE(8, at + 4); // deflate
			header.writeUInt16LE(time, at + 6);
			header.writeUInt16LE(date, at + 8);
			header.writeUInt32LE(crc, at + 10);
			header.writeUInt32LE(deflated.length, at + 14);
			header.writeUInt32LE(data.length, at + 18);
			header.writeUInt16LE(nameBytes.length, at + 22);
		};

		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04_03_4B_50, 0);
		shared(local, 4);
		local.writeUInt16LE(0, 28);
		locals.push(local, nameBytes, deflated);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(0x02_01_4B_50, 0);
		central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below is read
		shared(central, 6);
		central.writeUInt32LE((0o100_644 << 16) >>> 0, 38);
		central.writeUInt32LE(offset, 42);
		centrals.push(central, nameBytes);
		offset += local.length + nameBytes.length + deflated.length;
	}

	const directory = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06_05_4B_50, 0);
	end.writeUInt16LE(entries.length, 8);
	end.writeUInt16LE(entries.length, 10);
	end.writeUInt32LE(directory.length, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, directory, end]);
}

export function lambdaEntries() {
	const bundle = `${root}dist/lambda/`;
	if (!fs.existsSync(`${bundle}lambda.js`)) {
		throw new Error(`${bundle}lambda.js is missing: run npm run build first`);
	}

	const {version} = JSON.parse(fs.readFileSync(`${root}package.json`, 'utf8'));
	const chunks = fs.readdirSync(bundle).filter(name => name.endsWith('.js') && name !== 'lambda.js').sort();
	return [
		{name: 'lambda.js', data: fs.readFileSync(`${bundle}lambda.js`)},
		...chunks.map(name => ({name, data: fs.readFileSync(`${bundle}${name}`)})),
		{name: 'package.json', data: Buffer.from(`${JSON.stringify({name: 'envwatch-lambda', version, private: true, type: 'module'}, null, 2)}\n`)},
		{name: 'config/default.json', data: fs.readFileSync(`${root}config/default.json`)},
	];
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const out = `${root}dist/envwatch-lambda.zip`;
	const bytes = zip(lambdaEntries());
	fs.writeFileSync(out, bytes);
	console.log(`${out}: ${(bytes.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
}
