import React from 'react';
import {Box, Text} from 'ink';
import type {ConfirmRequest} from '../confirm.js';
import {useTheme} from '../theme.js';

/** Lines the panel wants: rule+title, details, error, prompt. */
export function confirmLines(request: ConfirmRequest): number {
	return 2 + request.details.length + (request.error ? 1 : 0) + 1;
}

export type ConfirmPanelProps = {
	request: ConfirmRequest;
	/** Lines available; detail lines are dropped first, never the title or the prompt. */
	height: number;
};

/** An open confirmation: what would happen (blast radius) and how to say yes; No is the default. */
export function ConfirmPanel({request, height}: ConfirmPanelProps): React.JSX.Element {
	const {tone, glyphs} = useTheme();
	const room = Math.max(0, height - 3 - (request.error ? 1 : 0));
	const details = request.details.slice(0, room);
	return (
		<Box flexDirection="column">
			<Text color={tone(request.danger ? 'red' : 'yellow')} wrap="truncate-end">{`${glyphs.rule.repeat(2)} confirm ${glyphs.rule.repeat(200)}`}</Text>
			<Text bold color={tone(request.danger ? 'red' : 'yellow')} wrap="truncate-end">{request.title}</Text>
			{details.map((line, index) => <Text key={index} wrap="truncate-end">{`  ${line}`}</Text>)}
			{request.error ? <Text color={tone('yellow')} wrap="truncate-end">{`  ${request.error}`}</Text> : null}
			{request.typed
				? (
					<Text wrap="truncate-end">
						{'  type '}
						<Text bold>{request.typed}</Text>
						{' and Enter to confirm, Esc to cancel: '}
						<Text inverse>{request.input + ' '}</Text>
					</Text>
				)
				: (
					<Text wrap="truncate-end">
						{'  '}
						<Text bold>y</Text>
						{' yes   '}
						<Text bold inverse>N</Text>
						{' no (default: n, Esc or Enter)'}
					</Text>
				)}
		</Box>
	);
}
