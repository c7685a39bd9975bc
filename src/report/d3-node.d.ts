// d3-node ships no types. It renders d3 selections into a jsdom document on the server.
declare module 'd3-node' {
  import type * as d3 from 'd3';
  export class D3Node {
    constructor(options?: { styles?: string; selector?: string; container?: string });
    readonly d3: typeof d3;
    createSVG(width?: number, height?: number, attrs?: Record<string, string | number>): d3.Selection<SVGSVGElement, unknown, null, undefined>;
    svgString(): string;
  }
}
