import type {Volume as Ec2Volume} from '@aws-sdk/client-ec2';
import {volumeProblem, type Volume} from '../../domain/index.js';
import {ImplausibleAnswerError, MalformedAnswerError} from './answers.js';
import type {LeanVolume} from './describe.js';

// What a DescribeVolumes answer holds, checked: a volume as envwatch prices it, from the lean
// reader's fields or the SDK's.

/** DescribeVolumes' MaxResults: a page holding more is not an answer to the request (not read further). */
export const volumesPerPage = 500;

/** A volume's fields from either decoder; a number the answer wrote as anything but a whole number is NaN. */
export type VolumeFields = {
	id?: string;
	type?: string;
	size?: number;
	iops?: number;
	throughput?: number;
	/** The instance of each attachment. */
	attachedTo: Array<string | undefined>;
};

export function fieldsOfSdk(volume: Ec2Volume): VolumeFields {
	const number = (value: unknown): number | undefined => (value === undefined ? undefined : typeof value === 'number' ? value : Number.NaN);
	return {
		...(volume.VolumeId === undefined ? {} : {id: volume.VolumeId}),
		...(volume.VolumeType === undefined ? {} : {type: volume.VolumeType}),
		...(volume.Size === undefined ? {} : {size: number(volume.Size)}),
		...(volume.Iops === undefined ? {} : {iops: number(volume.Iops)}),
		...(volume.Throughput === undefined ? {} : {throughput: number(volume.Throughput)}),
		attachedTo: (volume.Attachments ?? []).map(attachment => attachment.InstanceId),
	};
}

export function fieldsOfLean(volume: LeanVolume): VolumeFields {
	const fields: VolumeFields = {attachedTo: volume.attachedTo};
	if (volume.id !== undefined) {
		fields.id = volume.id;
	}

	if (volume.type !== undefined) {
		fields.type = volume.type;
	}

	if (volume.size !== undefined) {
		fields.size = whole(volume.size);
	}

	if (volume.iops !== undefined) {
		fields.iops = whole(volume.iops);
	}

	if (volume.throughput !== undefined) {
		fields.throughput = whole(volume.throughput);
	}

	return fields;
}

/** A number written as a whole number (a number past any plausible one is still one, for the plausibility check to name), else NaN. */
function whole(text: string): number {
	return /^\s*\d{1,30}\s*$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * A listed volume as envwatch prices it. One without an ID, a type, a size or an attachment to one
 * of the `wanted` instances cannot be priced, and one with a number that is not one or past EBS's
 * limits (64 TiB, 256,000 IOPS) cannot be true: the whole answer is an error then (thrown).
 */
export function checkedVolume(fields: VolumeFields, wanted: ReadonlySet<string>, region: string, page: number): Volume {
	const where = (): string => `DescribeVolumes page ${page}: volume ${fields.id === undefined ? '(no ID)' : fields.id.slice(0, 40)}`;
	const attached = fields.attachedTo.find(id => typeof id === 'string' && wanted.has(id));
	if (typeof fields.id !== 'string' || typeof fields.type !== 'string' || typeof fields.size !== 'number' || !Number.isFinite(fields.size) || !attached) {
		throw new MalformedAnswerError(region, `${where()} lacks an ID, a type, a size or an attachment to a listed instance: its cost is unknown`);
	}

	if (fields.iops !== undefined && !Number.isFinite(fields.iops)) {
		throw new MalformedAnswerError(region, `${where()} has an IOPS that is not a number: its cost is unknown`);
	}

	if (fields.throughput !== undefined && !Number.isFinite(fields.throughput)) {
		throw new MalformedAnswerError(region, `${where()} has a throughput that is not a number: its cost is unknown`);
	}

	const volume: Volume = {id: fields.id, region, type: fields.type, sizeGb: fields.size, instanceId: attached};
	if (fields.iops !== undefined) {
		volume.iops = fields.iops;
	}

	if (fields.throughput !== undefined) {
		volume.throughputMbps = fields.throughput;
	}

	const problem = volumeProblem(volume);
	if (problem !== undefined) {
		throw new ImplausibleAnswerError(region, `${where()} has ${problem}: not believed`);
	}

	return volume;
}
