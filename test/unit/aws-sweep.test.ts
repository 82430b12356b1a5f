import {describe, expect, it} from 'vitest';
import {regionsOf} from '../../source/providers/aws/sweep.js';

/** DescribeRegions' answer, as the SDK parsed it: each region its name and opt-in status. */
const region = (RegionName: unknown, OptInStatus: unknown = 'opt-in-not-required') => ({RegionName, OptInStatus, Endpoint: `ec2.${String(RegionName)}.amazonaws.com`});

describe('the regions enabled for the account (DescribeRegions), checked', () => {
	it('the enabled regions, sorted; one answered as not opted in is left out (an emulator answers every region)', () => {
		expect(regionsOf([region('us-west-2'), region('ap-east-1', 'not-opted-in'), region('af-south-1', 'opted-in'), region('us-east-1')], 'us-east-1')).toEqual(['af-south-1', 'us-east-1', 'us-west-2']);
	});

	it('every shape of name AWS gives: GovCloud, the isolated partitions, China, two-word directions', () => {
		const names = ['us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'cn-northwest-1', 'ap-southeast-7', 'me-central-1', 'il-central-1'];
		expect(regionsOf(names.map(name => region(name)), 'us-east-1')).toEqual([...names].sort());
	});

	it.each([
		['no list at all', undefined, 'DescribeRegions answered without any region'],
		['an empty list', [], 'DescribeRegions answered without any region'],
		['a region without a name', [region(undefined)], 'DescribeRegions answered a region named undefined: expected names like us-east-1'],
		['a name that is not a region', [region('<html>')], 'DescribeRegions answered a region named "<html>"'],
		['a region twice', [region('us-east-1'), region('us-east-1')], 'DescribeRegions answered us-east-1 twice'],
		['an opt-in status nobody knows', [region('us-east-1', 'maybe')], 'DescribeRegions answered us-east-1 with opt-in status "maybe"'],
		['no region enabled', [region('ap-east-1', 'not-opted-in')], 'DescribeRegions answered no enabled region'],
		['a name of a region\'s shape that AWS does not give (zz-fake-1)', [region('us-east-1'), region('zz-fake-1')], 'DescribeRegions answered a region named "zz-fake-1": expected names like us-east-1'],
		['more regions than an account can have (65)', Array.from({length: 65}, (_, index) => region(`us-east-${index + 1}`)), 'DescribeRegions answered 65 regions: more than the 64 envwatch believes an account can have (AWS has about 35): not believed'],
	])('%s is a malformed answer, never "no regions"', (_what, regions, problem) => {
		expect(() => regionsOf(regions, 'us-east-1')).toThrow(problem);
	});
});
