import React from 'react';
import {Text} from 'ink';
import {asciiText} from '../cells.js';
import {useTheme, type Colour} from '../theme.js';

export type Segment = {
	text: string;
	colour?: Colour | undefined;
	bold?: boolean;
	dim?: boolean;
	inverse?: boolean;
};

/** Cuts segments to `width` columns, ending with the theme's ellipsis where cut (ASCII under --ascii). */
export function cutSegments(segments: readonly Segment[], width: number, ellipsis: string): Segment[] {
	const total = segments.reduce((sum, segment) => sum + [...segment.text].length, 0);
	if (total <= width) {
		return [...segments];
	}

	const room = Math.max(0, width - [...ellipsis].length);
	const result: Segment[] = [];
	let used = 0;
	for (const segment of segments) {
		const chars = [...segment.text];
		if (used + chars.length <= room) {
			result.push(segment);
			used += chars.length;
			continue;
		}

		result.push({...segment, text: chars.slice(0, room - used).join('') + ellipsis});
		break;
	}

	return result;
}

/**
 * One line of the frame, cut to the width by us rather than wrapped: the frame's height is then
 * exactly its line count, and a cut line ends with the theme's own ellipsis.
 */
export function Line({segments, width}: {segments: readonly Segment[]; width: number}): React.JSX.Element {
	const {glyphs, tone, ascii} = useTheme();
	// A plain terminal gets ASCII whatever the text's source (an engine message, a tag value), before the cut.
	const shown = ascii ? segments.map(segment => ({...segment, text: asciiText(segment.text)})) : segments;
	return (
		<Text wrap="truncate-end">
			{cutSegments(shown, width, glyphs.ellipsis).map((segment, index) => (
				<Text key={index} color={segment.colour ? tone(segment.colour) : undefined} bold={segment.bold} dimColor={segment.dim} inverse={segment.inverse && tone('white') !== undefined}>{segment.text}</Text>
			))}
		</Text>
	);
}

/** A titled rule: `── events ──────`, exactly `width` wide. */
export function titleRule(title: string, width: number, rule: string): string {
	const head = `${rule.repeat(2)} ${title} `;
	return head + rule.repeat(Math.max(0, width - [...head].length));
}
