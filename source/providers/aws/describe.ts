// The shapes envwatch reads of EC2's Describe* answers with the lean reader (lean-xml.ts): the
// fields of an instance and of a volume, each at its place, and the checks every decoded launch
// time passes (shared with the SDK-decoded path).

import {LeanXmlReader, xmlNode, type LeanPage} from './lean-xml.js';

/** EC2 began in August 2006: an instance launched before cannot be. */
export const ec2Began = Date.UTC(2006, 7, 1);
/**
 * How far past "now" a launch time may be and still be believed: clocks drift, and AWS's front end
 * and the instance's host are not one clock. Beyond it, a launch time is in the future.
 */
export const launchSkewMs = 15 * 60_000;

/**
 * What cannot be true of a launch time as answered, or undefined when it can be (or there is none):
 * not a date, before EC2 existed, or later than `notAfter` (the latest of this host's clock and the
 * answer's own) plus `launchSkewMs`. Such an instance would be taken for the newest (or oldest) of
 * its environment, so its answer is malformed: its region errs (STALE), as for any impossible value.
 */
export function launchTimeProblem(launchTime: string | undefined, notAfter: number): string | undefined {
	if (launchTime === undefined) {
		return undefined;
	}

	const at = Date.parse(launchTime);
	if (!Number.isFinite(at)) {
		return `a launch time ${JSON.stringify(launchTime.slice(0, 40))} that is not a date`;
	}

	if (at > notAfter + launchSkewMs) {
		return `launch time ${launchTime.slice(0, 40)}, in the future (AWS's clock and this host's say ${new Date(notAfter).toISOString()})`;
	}

	return at < ec2Began ? `launch time ${launchTime.slice(0, 40)}, before EC2 existed (August 2006)` : undefined;
}

/** The fields of one instance as they were written in the answer (copies): nothing checked yet. */
export type LeanInstance = {
	id?: string;
	type?: string;
	state?: string;
	lifecycle?: string;
	platformDetails?: string;
	/** `windows` on Windows instances (older answers carry only this). */
	platform?: string;
	availabilityZone?: string;
	tenancy?: string;
	launchTime?: string;
	imageId?: string;
	/** Key and value of each tag, in order (a tag without a key is left out, as by the SDK path). */
	tags: Array<[string, string | undefined]>;
};

const text = (field: string, own = false): ReturnType<typeof xmlNode> => xmlNode({field, own});

/** Where an instance's fields sit: below reservationSet/item/instancesSet/item (an ID and a launch time are each instance's own; the rest repeats). */
const instancesShape = xmlNode({children: {
	nextToken: text('nextToken', true),
	reservationSet: xmlNode({children: {item: xmlNode({children: {instancesSet: xmlNode({children: {item: xmlNode({
		record: () => ({tags: []}),
		children: {
			instanceId: text('id', true),
			instanceType: text('type'),
			instanceState: xmlNode({children: {name: text('state')}}),
			instanceLifecycle: text('lifecycle'),
			platformDetails: text('platformDetails'),
			platform: text('platform'),
			placement: xmlNode({children: {availabilityZone: text('availabilityZone'), tenancy: text('tenancy')}}),
			launchTime: text('launchTime', true),
			imageId: text('imageId'),
			tagSet: xmlNode({children: {item: xmlNode({
				// A tag without a key is left out, as by the SDK path.
				entry: {make: () => ({}), add: (instance, tag) => {
					if (typeof tag['key'] === 'string') {
						(instance as LeanInstance).tags.push([tag['key'], tag['value'] as string | undefined]);
					}
				}},
				children: {key: text('key'), value: text('value')},
			})}}),
		},
	})}})}})}}),
}});

/**
 * Decodes one DescribeInstances page (the text of a 2xx answer) in one go. Throws XmlError when the
 * XML is not well-formed or ends early.
 */
export function decodeDescribeInstances(answer: string): LeanPage<LeanInstance> {
	const decoder = new DescribeInstancesDecoder();
	decoder.write(answer);
	return decoder.end();
}

/**
 * The same, fed the answer's text as it arrives (`write` each piece, then `end`). Each instance is
 * handed to `accept` as soon as its element closes and only what that returns is kept, so the
 * fields as read live for one instance, not for a page.
 */
export class DescribeInstancesDecoder<T = LeanInstance> extends LeanXmlReader<T> {
	constructor(accept: (instance: LeanInstance) => T = instance => instance as T, maxItems = Number.POSITIVE_INFINITY) {
		super(instancesShape, fields => accept(fields as LeanInstance), maxItems);
	}
}

/** The fields of one volume as they were written in the answer (copies): nothing checked yet. */
export type LeanVolume = {
	id?: string;
	type?: string;
	size?: string;
	iops?: string;
	throughput?: string;
	/** The instance of each attachment, in order. */
	attachedTo: Array<string | undefined>;
};

/** Where a volume's fields sit: below volumeSet/item. */
const volumesShape = xmlNode({children: {
	nextToken: text('nextToken', true),
	volumeSet: xmlNode({children: {item: xmlNode({
		record: () => ({attachedTo: []}),
		children: {
			volumeId: text('id', true),
			volumeType: text('type'),
			size: text('size'),
			iops: text('iops'),
			throughput: text('throughput'),
			attachmentSet: xmlNode({children: {item: xmlNode({
				entry: {make: () => ({}), add: (volume, attachment) => {
					(volume as LeanVolume).attachedTo.push(attachment['instanceId'] as string | undefined);
				}},
				children: {instanceId: text('instanceId', true)},
			})}}),
		},
	})}}),
}});

/** A DescribeVolumes page read as it arrives: each volume handed to `accept` as it closes. */
export class DescribeVolumesDecoder<T = LeanVolume> extends LeanXmlReader<T> {
	constructor(accept: (volume: LeanVolume) => T = volume => volume as T, maxItems = Number.POSITIVE_INFINITY) {
		super(volumesShape, fields => accept(fields as LeanVolume), maxItems);
	}
}

export {XmlError, type LeanPage} from './lean-xml.js';
