import {describe, expect, test} from 'vitest';
import {decodeDescribeInstances, DescribeInstancesDecoder, type LeanPage} from '../../source/providers/aws/describe.js';

// A page in EC2's shape with what a decoder trips on: entities, CDATA, a comment, attributes with
// `>` inside quotes, self-closing elements, nested elements that reuse field names (code, name,
// groupName under other parents), fields in any order, a tag without a key.
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
        </item>
        <item><instanceType>t3.small</instanceType><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceState><name>stopped</name><code>80</code></instanceState></item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>token+/=&amp;1</nextToken>
</DescribeInstancesResponse>
`;

const expected: LeanPage = {
	instances: [
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
		expect(decoder.end()).toEqual({instances: [19, 19], nextToken: 'token+/=&1'});
		expect(seen).toEqual(['i-1234567890abcdef0', 'i-0aaaaaaaaaaaaaaa1']);
	});

	test('a page of thousands of distinct values (names) reads each one right', () => {
		// Repeated values are kept once per page in a bounded table that starts over when full.
		const items = Array.from({length: 2600}, (_, index) => `<item><instanceId>i-${index.toString(16).padStart(17, '0')}</instanceId><instanceType>t3.large</instanceType><instanceState><name>running</name></instanceState><tagSet><item><key>Environment</key><value>dev</value></item><item><key>Name</key><value>agent ${index} &amp; co</value></item></tagSet></item>`);
		const text = `<DescribeInstancesResponse><reservationSet><item><instancesSet>${items.join('')}</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
		const {instances} = decodeDescribeInstances(text);
		expect(instances).toHaveLength(2600);
		for (const [index, instance] of instances.entries()) {
			expect(instance.tags).toEqual([['Environment', 'dev'], ['Name', `agent ${index} & co`]]);
			expect(instance).toMatchObject({id: `i-${index.toString(16).padStart(17, '0')}`, type: 't3.large', state: 'running'});
		}
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
		['a malformed tag', page.replace('<instanceType>', '<instance"Type>'), /malformed tag/],
	])('rejects %s', (_name, text, message) => {
		expect(() => decodeDescribeInstances(text)).toThrow(message);
	});
});
