import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts';
import {checkAnswers, ImplausibleAnswerError, MalformedAnswerError} from './answers.js';
import {clientConfig, type AwsConnection, type Credentials} from './clients.js';

export type RoleSpec = {roleArn: string; externalId?: string; sessionName?: string};

export type AssumedRoleOptions = {
	/** Where STS is asked (its regional endpoint). */
	region: string;
	/** The session's length asked for (a role's default maximum is an hour). @default 3600 */
	durationSeconds?: number;
	/** Assumed again when less than this is left, so no call goes out with credentials about to expire. @default 300000 */
	refreshBeforeMs?: number;
	clock?: () => number;
};

/** The longest session STS grants (a role's MaxSessionDuration is at most 12 hours), and some slack. */
const longestSessionMs = 12 * 3_600_000 + 5 * 60_000;

/**
 * A role in another account, assumed with the credentials envwatch runs as and assumed again
 * before the session expires (`refreshBeforeMs`): `provider` is what the SDK's clients of that
 * account take as their credentials. Two callers at once share one AssumeRole. The answer is
 * believed only when it is whole: keys, a token and an expiry that is ahead and not past what STS
 * grants. A failure (AccessDenied: the role or its trust policy is missing) is thrown to the
 * caller each time, and asked again at the next call: nothing is cached but what worked.
 */
export class AssumedRole {
	/** AssumeRole calls made (the tests count refreshes by it). */
	calls = 0;
	private current: {credentials: Credentials; expiresAt: number} | undefined;
	private inFlight: Promise<Credentials> | undefined;
	private client: STSClient | undefined;
	private readonly clock: () => number;

	constructor(readonly spec: RoleSpec, private readonly connection: AwsConnection, private readonly options: AssumedRoleOptions) {
		this.clock = options.clock ?? Date.now;
	}

	/** The SDK's credentials provider for this account's clients. */
	readonly provider = async (): Promise<Credentials> => this.get();

	/** Credentials with more than `refreshBeforeMs` left: the ones held, or a new session. */
	async get(): Promise<Credentials> {
		const current = this.current;
		if (current && current.expiresAt - this.clock() > (this.options.refreshBeforeMs ?? 300_000)) {
			return current.credentials;
		}

		this.inFlight ??= this.assume().finally(() => {
			this.inFlight = undefined;
		});
		return this.inFlight;
	}

	private async assume(): Promise<Credentials> {
		const {region} = this.options;
		if (!this.client) {
			this.client = new STSClient(clientConfig(this.connection, region));
			checkAnswers(this.client, region, 'xml');
		}

		this.calls++;
		const answer = await this.client.send(new AssumeRoleCommand({
			RoleArn: this.spec.roleArn,
			RoleSessionName: this.spec.sessionName ?? 'envwatch',
			DurationSeconds: this.options.durationSeconds ?? 3600,
			...(this.spec.externalId ? {ExternalId: this.spec.externalId} : {}),
		}));
		const given = answer.Credentials;
		const {AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: expiration} = given ?? {};
		if (typeof accessKeyId !== 'string' || accessKeyId === '' || typeof secretAccessKey !== 'string' || secretAccessKey === '' || typeof sessionToken !== 'string' || sessionToken === '') {
			throw new MalformedAnswerError(region, `AssumeRole of ${this.spec.roleArn} answered without an access key, a secret key and a session token: expected temporary credentials`);
		}

		const expiresAt = expiration instanceof Date ? expiration.getTime() : Number.NaN;
		const now = this.clock();
		if (!Number.isFinite(expiresAt) || expiresAt <= now || expiresAt > now + longestSessionMs) {
			throw new ImplausibleAnswerError(region, `AssumeRole of ${this.spec.roleArn} answered credentials expiring ${Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : 'at no readable time'}: expected a time ahead, within the 12 hours STS grants at most`);
		}

		const credentials = {accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt)};
		this.current = {credentials, expiresAt};
		return credentials;
	}

	/** The session held is no longer believed (AWS rejected it): the next `get` assumes the role again. */
	forget(): void {
		this.current = undefined;
	}

	close(): void {
		this.client?.destroy();
		this.client = undefined;
	}
}
