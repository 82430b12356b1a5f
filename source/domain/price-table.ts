/**
 * The shipped price table: on-demand $/h of common instance types, Linux, shared tenancy, in
 * us-east-1 (AWS's public price list). envwatch uses it only where AWS's own Price List cannot be
 * reached or has no answer yet; `prices` in the configuration overrides both.
 */
export const fallbackPrices: Readonly<Record<string, number>> = Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
	't3.nano': 0.0052,
	't3.micro': 0.0104,
	't3.small': 0.0208,
	't3.medium': 0.0416,
	't3.large': 0.0832,
	't3.xlarge': 0.1664,
	't3.2xlarge': 0.3328,
	't3a.micro': 0.0094,
	't3a.small': 0.0188,
	't3a.medium': 0.0376,
	't3a.large': 0.0752,
	't3a.xlarge': 0.1504,
	't4g.micro': 0.0084,
	't4g.small': 0.0168,
	't4g.medium': 0.0336,
	't4g.large': 0.0672,
	't2.micro': 0.0116,
	't2.small': 0.023,
	't2.medium': 0.0464,
	't2.large': 0.0928,
	'm5.large': 0.096,
	'm5.xlarge': 0.192,
	'm5.2xlarge': 0.384,
	'm5.4xlarge': 0.768,
	'm5.8xlarge': 1.536,
	'm6i.large': 0.096,
	'm6i.xlarge': 0.192,
	'm6i.2xlarge': 0.384,
	'm6i.4xlarge': 0.768,
	'm6g.large': 0.077,
	'm6g.xlarge': 0.154,
	'm7i.large': 0.1008,
	'm7i.xlarge': 0.2016,
	'm7g.large': 0.0816,
	'm7g.xlarge': 0.1632,
	'c5.large': 0.085,
	'c5.xlarge': 0.17,
	'c5.2xlarge': 0.34,
	'c5.4xlarge': 0.68,
	'c5.9xlarge': 1.53,
	'c6i.large': 0.085,
	'c6i.xlarge': 0.17,
	'c6i.2xlarge': 0.34,
	'c6g.large': 0.068,
	'c6g.xlarge': 0.136,
	'c7i.large': 0.08925,
	'c7i.xlarge': 0.1785,
	'c7g.large': 0.0725,
	'c7g.xlarge': 0.145,
	'r5.large': 0.126,
	'r5.xlarge': 0.252,
	'r5.2xlarge': 0.504,
	'r6i.large': 0.126,
	'r6i.xlarge': 0.252,
	'r6g.large': 0.1008,
	'r6g.xlarge': 0.2016,
	'g4dn.xlarge': 0.526,
	'g4dn.2xlarge': 0.752,
	'g5.xlarge': 1.006,
	'g5.2xlarge': 1.212,
	'p3.2xlarge': 3.06,
	'p3.8xlarge': 12.24,
}));

/**
 * EBS rates (us-east-1, $ per month; a month is 730 hours): per GB-month by volume type, gp3's
 * IOPS over its free 3,000 and throughput over its free 125 MB/s, io1/io2 per provisioned IOPS
 * (io2 in tiers). Used where the Price List has not (yet) given a region's own EBS rates.
 */
export const fallbackEbsRates = Object.freeze({
	gbMonth: Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {gp2: 0.1, gp3: 0.08, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05})),
	gp3IopsMonth: 0.005,
	gp3ThroughputMonth: 0.04,
	io1IopsMonth: 0.065,
	/** io2 IOPS: up to 32,000, 32,001 to 64,000, beyond. */
	io2IopsMonth: [0.065, 0.0455, 0.032] as const,
});
