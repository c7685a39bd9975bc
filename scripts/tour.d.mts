/** Types for scripts/tour.mjs (the README's generated "Tour of failures"). */
export declare const START: string;
export declare const END: string;
export declare const TOUR: readonly (readonly [string, readonly string[]])[];
export declare function tourSection(root?: string): string;
export declare function tourCoverage(root?: string): { missing: string[]; unknown: string[]; duplicated: string[] };
export declare function withTour(readme: string, section: string): string;
