// The client-side decisions the language client's middleware makes, as plain
// functions (no `vscode` import) so that they are unit-tested.

import { CONFIG_SECTION, FIX_ALL_KIND } from './constants';
import { ServerSettings } from './settings';

/**
 * Answer to workspace/configuration: every item for section "asyncsense" gets
 * the server settings object S (the same as initializationOptions.settings);
 * other sections keep what VS Code answered.
 */
export function answerConfiguration(
    items: readonly { section?: string }[],
    vscodeAnswer: readonly unknown[],
    settings: () => ServerSettings,
): unknown[] {
    return items.map((item, i) => (item.section === CONFIG_SECTION ? settings() : vscodeAnswer[i]));
}

/** Whether a code action kind is asyncsense's fix-all kind (or one below it). */
export function isFixAllKind(kind: string | undefined): boolean {
    return kind !== undefined && (kind === FIX_ALL_KIND || kind.startsWith(`${FIX_ALL_KIND}.`));
}

/** With asyncsense.fixAll off: drop the fix-all actions, keep the quick fixes. */
export function withoutFixAll<T>(actions: readonly T[], kindOf: (action: T) => string | undefined): T[] {
    return actions.filter((a) => !isFixAllKind(kindOf(a)));
}

/**
 * The crash policy: restart a server that exited on its own, up to `max`
 * times within `windowMs`; past that, give up (the user restarts it).
 */
export class RestartPolicy {
    private readonly crashes: number[] = [];

    constructor(
        readonly max = 4,
        readonly windowMs = 3 * 60 * 1000,
    ) {}

    /** Records a crash at `now`; true if the server should be restarted. */
    shouldRestart(now: number = Date.now()): boolean {
        this.crashes.push(now);
        while (this.crashes.length > 0 && now - this.crashes[0] > this.windowMs) {
            this.crashes.shift();
        }
        return this.crashes.length <= this.max;
    }

    get recentCrashes(): number {
        return this.crashes.length;
    }
}
