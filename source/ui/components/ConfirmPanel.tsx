import React from 'react';
import {Box} from 'ink';
import {wrap} from '../cells.js';
import {countRange, type ConfirmRequest, type StartCount} from '../confirm.js';
import {useTheme} from '../theme.js';
import {Line, titleRule, type Segment} from './Line.js';

/**
 * The confirmation's lines at this width, its title rule aside: the title, the blast radius and
 * any error word-wrapped (never cut: a confirmation is never asked without its blast radius), and
 * the prompt, whose typed word goes on a line of its own when it would not be seen otherwise.
 */
export function confirmBody(request: ConfirmRequest, columns: number): Segment[][] {
	const colour = request.danger ? 'red' : 'yellow';
	const lines: Segment[][] = [
		...wrap(request.title, columns, 2).map((text): Segment[] => [{text, colour, bold: true}]),
		...(request.count ? [countLine(request.count, columns)] : []),
		// A no-break space in a detail keeps two words together when it wraps, and is drawn as a space.
		...request.details.flatMap(detail => wrap(`  ${detail}`, columns, 4).map((text): Segment[] => [{text: text.replaceAll('\u00A0', ' ')}])),
		...(request.error ? wrap(`  ${request.error}`, columns, 4).map((text): Segment[] => [{text, colour: 'yellow'}]) : []),
	];
	if (!request.typed) {
		// Narrow, the same keys in fewer words, so the line is never cut.
		const no = columns >= '  y yes   N no (default: n, Esc or Enter)'.length ? ' no (default: n, Esc or Enter)' : ' no (n, Esc, Enter)';
		lines.push([{text: '  '}, {text: 'y', bold: true}, {text: ' yes   '}, {text: 'N', bold: true, inverse: true}, {text: no}]);
		return lines;
	}

	const ask = `  type ${request.typed} and Enter to confirm, Esc to cancel: `;
	const input: Segment = {text: `${request.input}_`, inverse: true};
	if ([...ask].length + [...input.text].length <= columns) {
		lines.push([{text: '  type '}, {text: request.typed, bold: true}, {text: ' and Enter to confirm, Esc to cancel: '}, input]);
	} else {
		// Narrow: a shorter prompt keeps what is typed in sight, on its own line if need be.
		const short = `  type ${request.typed} + Enter: `;
		lines.push(...([...short].length + [...input.text].length <= columns
			? [[{text: '  type '}, {text: request.typed, bold: true}, {text: ' + Enter: '}, input]]
			: [[{text: '  type '}, {text: request.typed, bold: true}, {text: ' + Enter:'}], [{text: '  > '}, input]]));
	}

	return lines;
}

/**
 * A start's count: what is typed (the default, dim, until something is), then the range, as far as
 * the width allows (the count itself is always in sight).
 */
function countLine(count: StartCount, columns: number): Segment[] {
	const shown: Segment = count.input === '' ? {text: String(count.default), dim: true} : {text: count.input};
	const hint = ` (${countRange(count)}; type a number)`;
	const used = '  count: '.length + shown.text.length + 1;
	return [{text: '  count: '}, shown, {text: '_', inverse: true}, ...(used + hint.length <= columns ? [{text: hint, dim: true}] : [])];
}

/** Lines the panel needs at this width: at least its body, and its title rule when there is room. */
export function confirmLines(request: ConfirmRequest, columns: number): {min: number; want: number} {
	const body = confirmBody(request, columns).length;
	return {min: body, want: body + 1};
}

export type ConfirmPanelProps = {
	request: ConfirmRequest;
	/** Lines available: the title rule is drawn when the body leaves room for it. */
	height: number;
	columns: number;
};

/** An open confirmation: what would happen (blast radius) and how to say yes; No is the default. */
export function ConfirmPanel({request, height, columns}: ConfirmPanelProps): React.JSX.Element {
	const {glyphs} = useTheme();
	const colour = request.danger ? 'red' : 'yellow';
	const body = confirmBody(request, columns);
	return (
		<Box flexDirection="column">
			{height > body.length ? <Line segments={[{text: titleRule('confirm', columns, glyphs.rule), colour}]} width={columns} /> : null}
			{body.slice(0, Math.max(0, height)).map((segments, index) => <Line key={index} segments={segments} width={columns} />)}
		</Box>
	);
}
