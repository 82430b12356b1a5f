import React from 'react';
import {Box} from 'ink';
import type {ConfirmRequest} from '../confirm.js';
import {useTheme} from '../theme.js';
import {Line, titleRule} from './Line.js';

/** Lines the panel wants: rule+title, details, error, prompt. */
export function confirmLines(request: ConfirmRequest): number {
	return 2 + request.details.length + (request.error ? 1 : 0) + 1;
}

export type ConfirmPanelProps = {
	request: ConfirmRequest;
	/** Lines available; detail lines are dropped first, never the title or the prompt. */
	height: number;
	columns: number;
};

/** An open confirmation: what would happen (blast radius) and how to say yes; No is the default. */
export function ConfirmPanel({request, height, columns}: ConfirmPanelProps): React.JSX.Element {
	const {glyphs} = useTheme();
	const colour = request.danger ? 'red' : 'yellow';
	const room = Math.max(0, height - 3 - (request.error ? 1 : 0));
	const details = request.details.slice(0, room);
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule('confirm', columns, glyphs.rule), colour}]} width={columns} />
			<Line segments={[{text: request.title, colour, bold: true}]} width={columns} />
			{details.map((line, index) => <Line key={index} segments={[{text: `  ${line}`}]} width={columns} />)}
			{request.error ? <Line segments={[{text: `  ${request.error}`, colour: 'yellow'}]} width={columns} /> : null}
			<Line
				width={columns}
				segments={request.typed
					? [{text: '  type '}, {text: request.typed, bold: true}, {text: ' and Enter to confirm, Esc to cancel: '}, {text: `${request.input}_`, inverse: true}]
					: [{text: '  '}, {text: 'y', bold: true}, {text: ' yes   '}, {text: 'N', bold: true, inverse: true}, {text: ' no (default: n, Esc or Enter)'}]}
			/>
		</Box>
	);
}
