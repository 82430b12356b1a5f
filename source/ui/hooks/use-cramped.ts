import {useMemo} from 'react';
import type {Snapshot} from '../../engine/index.js';
import {confirmRefusal, crampedKeys} from '../components/Dashboard.js';
import {keysFor} from '../dashboard-state.js';
import {instanceStopRequest} from '../instance-actions.js';
import type {UiCommand} from '../keymap.js';
import type {Glyphs} from '../theme.js';
import type {Clock} from '../ticker.js';
import {detailRows} from '../views/instances.js';
import {stopTargets, type View} from '../views/state.js';
import type {Controller} from './use-commands.js';

/** What `x` would stop now (stopTargets): in the detail view, its rows as drawn from the snapshot. */
function instanceTargets(view: View | undefined, shown: Snapshot): {environment: string; ids: string[]} | undefined {
	return view ? stopTargets(view, () => (view.kind === 'detail' ? detailRows(view, shown) : [])) : undefined;
}

type CrampedInput = {shown: Snapshot | undefined; columns: number; rows: number; view: View | undefined; selected: string | undefined; glyphs: Glyphs; clock: Clock; controller: Controller};

/**
 * The keys whose confirmation cannot be shown whole at this size, for the selected environment or
 * the instances view's (and `x`, for what it would stop now): the key bar does not offer them.
 * Worked out again when the snapshot, the size or the view changes.
 */
export function useCramped({shown, columns, rows, view, selected, glyphs, clock, controller}: CrampedInput): UiCommand[] {
	return useMemo(() => {
		const target = view?.kind === 'detail' || view?.kind === 'describe' ? view.environment : selected;
		const keys = keysFor(shown, target);
		if (!shown || keys.readOnly) {
			return [];
		}

		const now = clock.getSnapshot();
		const input = {snapshot: shown, now, columns, rows, selected: target, keys, glyphs};
		const cramped = crampedKeys({...input, cascadeTarget: controller.cascadeTarget()});
		const instances = instanceTargets(view, shown);
		const request = instances ? instanceStopRequest(shown, instances.environment, instances.ids, now) : undefined;
		return request && !('refused' in request) && confirmRefusal({...input, panel: {kind: 'confirm', request}}) ? [...cramped, 'stop-instances'] : cramped;
	}, [shown, columns, rows, view, selected, glyphs, clock, controller]);
}
