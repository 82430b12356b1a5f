import {describe, expect, test} from 'vitest';
import {decodeDescribeInstances, DescribeInstancesDecoder, DescribeVolumesDecoder, type LeanInstance, type LeanPage} from '../../source/providers/aws/describe.js';
import {fieldsOfLean} from '../../source/providers/aws/volumes.js';

// A page in EC2's shape with what a decoder trips on: entities, CDATA, a comment, attributes with
// `>` inside quotes, self-closing elements, nested elements that reuse field names (code, name,
// groupName under other parents), fields in any order, a tag without a key; and elements read past
// whole that would mislead a reader looking only for their end: a comment or CDATA holding it, one
// holding an element of its own name, one closed as `</name >` (the next instance's `</name>` is not
// its end), a prefixed one.
const page = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <groupSet/>
      <instancesSet>
        <item>
          <instanceId>i-1234567890abcdef0</instanceId>
          <stateReason><code>Client.UserInitiatedShutdown</code><message/></stateReason>
          <instanceState><code>16</code><name>running</name></instanceState>
          <instanceType>m5.large</instanceType>
          <imageId>ami-0abcdef1234567890</imageId>
          <launchTime>2026-01-02T03:04:05.000Z</launchTime>
          <placement><availabilityZone>us-east-1b</availabilityZone><groupName/><tenancy>dedicated</tenancy></placement>
          <!-- a comment with <tags> & such -->
          <instanceLifecycle>spot</instanceLifecycle>
          <platformDetails>Windows &amp; SQL</platformDetails>
          <networkInterfaceSet><item><instanceId>i-ffffffffffffffff0</instanceId><name>not the state</name></item></networkInterfaceSet>
          <tagSet>
            <item><key>Environment</key><value>dev &lt;&#x41;&#66;&gt; &quot;q&quot; &apos;a&apos;</value></item>
            <item><key>Name</key><value><![CDATA[a & b <c>]]></value></item>
            <item><key>Empty</key><value/></item>
            <item><value>no key</value></item>
          </tagSet>
          <extra note="a > b" other='c "d"'>ignored</extra>
          <blockDeviceMapping><item><ebs><volumeId>vol-1</volumeId></ebs></item></blockDeviceMapping>
          <hypervisor><!-- </hypervisor><instanceType>p5.48xlarge</instanceType><hypervisor> -->xen</hypervisor>
          <productCodes><productCodes><instanceType>p5.48xlarge</instanceType></productCodes></productCodes>
          <monitoring><state>disabled</state></monitoring >
          <ec2:ebsOptimized xmlns:ec2="x">false</ec2:ebsOptimized>
          <description><![CDATA[</description><instanceType>p5.48xlarge</instanceType>]]></description>
        </item>
        <item><instanceType>t3.small</instanceType><monitoring><state>enabled</state></monitoring><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceState><name>stopped</name><code>80</code></instanceState></item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>token+/=&amp;1</nextToken>
</DescribeInstancesResponse>
`;

const expected: LeanPage<LeanInstance> = {
	items: [
		{
			id: 'i-1234567890abcdef0', type: 'm5.large', state: 'running', launchTime: '2026-01-02T03:04:05.000Z', availabilityZone: 'us-east-1b', tenancy: 'dedicated', imageId: 'ami-0abcdef1234567890',
			lifecycle: 'spot', platformDetails: 'Windows & SQL',
			tags: [['Environment', 'dev <AB> "q" \'a\''], ['Name', 'a & b <c>'], ['Empty', '']],
		},
		{id: 'i-0aaaaaaaaaaaaaaa1', type: 't3.small', state: 'stopped', tags: []},
	],
	nextToken: 'token+/=&1',
};

describe('the lean DescribeInstances decoder', () => {
	test('reads the fields envwatch uses, only at their place in an instance', () => {
		expect(decodeDescribeInstances(page)).toEqual(expected);
	});

	test('fed in pieces (as the answer arrives), split anywhere, it reads the same', () => {
		for (let cut = 1; cut < page.length; cut++) {
			const decoder = new DescribeInstancesDecoder();
			decoder.write(page.slice(0, cut));
			decoder.write(page.slice(cut));
			expect(decoder.end(), `cut at ${cut}`).toEqual(expected);
		}

		const decoder = new DescribeInstancesDecoder();
		for (const character of page) {
			decoder.write(character);
		}

		expect(decoder.end()).toEqual(expected);
	});

	test('hands each instance to `accept` as it closes and keeps only what that returns', () => {
		const seen: string[] = [];
		const decoder = new DescribeInstancesDecoder(instance => {
			seen.push(instance.id!);
			return instance.id!.length;
		});
		const cut = page.indexOf('<item><instanceType>t3.small');
		decoder.write(page.slice(0, cut));
		// The first instance is handed over before the page ends.
		expect(seen).toEqual(['i-1234567890abcdef0']);
		decoder.write(page.slice(cut));
		expect(decoder.end()).toEqual({items: [19, 19], nextToken: 'token+/=&1'});
		expect(seen).toEqual(['i-1234567890abcdef0', 'i-0aaaaaaaaaaaaaaa1']);
	});

	test('a page of thousands of distinct values (names) reads each one right', () => {
		// Repeated values are kept once per page in a bounded table that starts over when full.
		const items = Array.from({length: 2600}, (_, index) => `<item><instanceId>i-${index.toString(16).padStart(17, '0')}</instanceId><instanceType>t3.large</instanceType><instanceState><name>running</name></instanceState><tagSet><item><key>Environment</key><value>dev</value></item><item><key>Name</key><value>agent ${index} &amp; co</value></item></tagSet></item>`);
		const text = `<DescribeInstancesResponse><reservationSet><item><instancesSet>${items.join('')}</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
		const {items: instances} = decodeDescribeInstances(text);
		expect(instances).toHaveLength(2600);
		for (const [index, instance] of instances.entries()) {
			expect(instance.tags).toEqual([['Environment', 'dev'], ['Name', `agent ${index} & co`]]);
			expect(instance).toMatchObject({id: `i-${index.toString(16).padStart(17, '0')}`, type: 't3.large', state: 'running'});
		}
	});

	test('an element passed over ends where XML says, however its end is written (read whole or tag by tag)', () => {
		// Each case's instance type is m5.large: p5.48xlarge only where a reader took the wrong end.
		// The second instance's element, where a reader taking the wrong end would stop.
		const cases: Array<[inside: string, later?: string]> = [
			['<a><!-- </a> --><instanceType>p5.48xlarge</instanceType></a>'],
			['<a><a>x</a><instanceType>p5.48xlarge</instanceType></a>'],
			['<a><b/></a >'],
			['<a x="1"><b>y</b></a>'],
			// A prefixed name ends with its prefix; a reader looking for `</a>` would find the next one.
			['<p:a>x</p:a>', '<q:a>z</a>'],
			// An element named like the record, ended with a space: its end is not the record's `</item>`.
			['<item>x</item >', '<item>z</item>'],
			['<a><b>x</b></a >', '<a><b>z</b></a>'],
		];
		for (const [inside, later = '<a>z</a>'] of cases) {
			const text = `<R><reservationSet><item><instancesSet><item><instanceId>i-01</instanceId>${inside}<instanceType>m5.large</instanceType><instanceState><name>running</name></instanceState></item><item><instanceId>i-02</instanceId>${later}<instanceType>t3.small</instanceType></item></instancesSet></item></reservationSet></R>`;
			const read = (pieces: string[]): unknown => {
				const decoder = new DescribeInstancesDecoder();
				for (const piece of pieces) {
					decoder.write(piece);
				}

				return decoder.end();
			};

			const whole = read([text]);
			expect(whole, inside).toMatchObject({items: [{id: 'i-01', type: 'm5.large', state: 'running'}, {id: 'i-02', type: 't3.small'}]});
			// Split so that the element's end is not at hand: read tag by tag, the same.
			expect(read([text.slice(0, text.indexOf(inside) + 3), text.slice(text.indexOf(inside) + 3)]), inside).toEqual(whole);
		}
	});

	test('an unfinished tag, comment or CDATA section is held up to 64 KiB, not without end', () => {
		const decoder = new DescribeInstancesDecoder();
		decoder.write(page.slice(0, page.indexOf('<extra')));
		decoder.write(`<extra note="${'x'.repeat(60_000)}`);
		expect(() => {
			decoder.write('x'.repeat(10_000));
		}).toThrow(/a tag, comment or CDATA section of over 64 KiB/);
	});

	test('character references XML allows, with or without leading zeros, read as their characters', () => {
		const read = decodeDescribeInstances(page.replace('&amp; SQL', '&#x00000041;&#000000066;&#x1F600;&#9;'));
		expect(read.items[0]!.platformDetails).toBe('Windows AB\u{1F600}\t');
	});

	test.each([
		['a field given twice (the second would win)', page.replace('<instanceType>m5.large</instanceType>', '<instanceType>m5.large</instanceType><instanceType>p5.48xlarge</instanceType>'), /<instanceType> given twice in one item/],
		['a field holding an element', page.replace('<instanceType>m5.large</instanceType>', '<instanceType>m5<b/>.large</instanceType>'), /<instanceType> holds an element <b>/],
		['a tag key given twice', page.replace('<key>Environment</key>', '<key>Environment</key><key>Env</key>'), /<key> given twice/],
		['a next-page token given twice', page.replace('<nextToken>', '<nextToken>a</nextToken><nextToken>'), /<nextToken> given twice in one answer/],
		['an element passed over never closed', page.replace('<hypervisor>', '<hypervisor>xen<hypervisor>'), /closed by|never closed/],
		['a < inside an attribute value', page.replace('<hypervisor>', '<hypervisor note="</hypervisor>">'), /a < inside an attribute value/],
		['an end tag inside an attribute value of an element passed over', page.replace('<blockDeviceMapping>', '<blockDeviceMapping><y b="</blockDeviceMapping>"/>'), /a < inside an attribute value/],
		['a NUL by reference', page.replace('&amp; SQL', '&#0; SQL'), /&#0; to a character XML does not allow/],
		['a lone surrogate by reference', page.replace('&amp; SQL', '&#xD800; SQL'), /&#xD800; to a character XML does not allow/],
		['a control character by reference', page.replace('&amp; SQL', '&#x1; SQL'), /&#x1; to a character XML does not allow/],
		['a value of over 64 KiB', page.replace('Windows &amp; SQL', 'W'.repeat(70_000)), /a value of over 64 KiB/],
		['elements nested 65 deep', page.replace('<hypervisor>', `${'<n>'.repeat(65)}${'</n>'.repeat(65)}<hypervisor>`), /nested over 64 deep/],
		['an element passed over closed twice', page.replace('<blockDeviceMapping>', '<blockDeviceMapping></blockDeviceMapping>'), /closed by <\/blockDeviceMapping>/],
	])('rejects %s', (_name, text, message) => {
		expect(() => decodeDescribeInstances(text)).toThrow(message);
	});

	test.each([
		['cut off inside a tag', page.slice(0, page.indexOf('<instanceType>m5') + 5), /ends inside a tag|never closed/],
		['cut off between elements', page.slice(0, page.indexOf('</reservationSet>')), /never closed: cut off/],
		['a mismatched closing tag', page.replace('</instanceType>', '</instanceTypo>'), /<instanceType> closed by <\/instanceTypo>/],
		['an unknown entity', page.replace('&amp; SQL', '&nbsp; SQL'), /unknown entity &nbsp;/],
		['a bare ampersand', page.replace('&amp; SQL', '& SQL'), /bare &/],
		['a second root', `${page}<DescribeInstancesResponse/>`, /second root/],
		['text after the root', `${page}junk`, /text outside the root/],
		['a DOCTYPE (an HTML page)', '<!DOCTYPE html><html></html>', /declaration inside the document/],
		['nothing', '', /no root element/],
		['a malformed tag', page.replace('<instanceType>', '<instance"Type>'), /malformed tag|a < inside an attribute value/],
	])('rejects %s', (_name, text, message) => {
		expect(() => decodeDescribeInstances(text)).toThrow(message);
	});
});

describe('the lean DescribeVolumes decoder', () => {
	const volumes = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <volumeSet>
    <item><volumeId>vol-0a1b2c3d4e5f60001</volumeId><size>8</size><availabilityZone>us-east-1a</availabilityZone><status>in-use</status>
      <attachmentSet><item><volumeId>vol-0a1b2c3d4e5f60001</volumeId><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><device>/dev/sda1</device></item>
        <item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceId></item></attachmentSet>
      <volumeType>io2</volumeType><iops>16000</iops><tagSet><item><key>size</key><value>99</value></item></tagSet><multiAttachEnabled>true</multiAttachEnabled></item>
    <item><volumeId>vol-0a1b2c3d4e5f60002</volumeId><size>100</size><attachmentSet/><volumeType>gp3</volumeType><iops>3000</iops><throughput>125</throughput></item>
  </volumeSet>
  <nextToken>next-1</nextToken>
</DescribeVolumesResponse>`;
	const expected = {
		items: [
			{id: 'vol-0a1b2c3d4e5f60001', size: '8', type: 'io2', iops: '16000', attachedTo: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2']},
			{id: 'vol-0a1b2c3d4e5f60002', size: '100', type: 'gp3', iops: '3000', throughput: '125', attachedTo: []},
		],
		nextToken: 'next-1',
	};

	test('reads each volume\'s ID, type, size, IOPS, throughput and attachments, only at their place, split anywhere', () => {
		for (let cut = 0; cut < volumes.length; cut += 7) {
			const decoder = new DescribeVolumesDecoder();
			decoder.write(volumes.slice(0, cut));
			decoder.write(volumes.slice(cut));
			expect(decoder.end(), `cut at ${cut}`).toEqual(expected);
		}
	});

	test('as numbers: whole numbers only; anything else is NaN (the volume then cannot be priced)', () => {
		const read = (size: string): unknown => {
			const decoder = new DescribeVolumesDecoder(fieldsOfLean);
			decoder.write(volumes.replace('<size>8</size>', `<size>${size}</size>`));
			return decoder.end();
		};
		expect(read('8')).toMatchObject({items: [{size: 8, iops: 16_000, attachedTo: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2']}, {size: 100, throughput: 125}]});
		for (const odd of ['8.5', '-8', '1e3', '0x10', '', 'eight']) {
			expect(read(odd), odd).toMatchObject({items: [{size: Number.NaN}, {size: 100}]});
		}
	});

	test('a page holding more volumes than asked for is not read further (a page that never ends is not held)', () => {
		const decoder = new DescribeVolumesDecoder(volume => volume, 1);
		expect(() => {
			decoder.write(volumes);
		}).toThrow(/more than 1 items in one page/);
		const enough = new DescribeVolumesDecoder(volume => volume, 2);
		enough.write(volumes);
		expect(enough.end().items).toHaveLength(2);
	});

	test('rejects a volume that gives its size twice', () => {
		const decoder = new DescribeVolumesDecoder();
		expect(() => {
			decoder.write(volumes.replace('<size>8</size>', '<size>8</size><size>16384</size>'));
		}).toThrow(/<size> given twice in one item/);
	});
});
