/**
 * RuleSet: the DIVERT rules one socket installs for its lifetime (the seed's -DFIREWALL).
 * @module
 */
export type RuleSpec = string;

export interface RuleSetOptions {
  netns: string | undefined;
  passThrough: boolean;
  defragment: boolean;
}

export class RuleSet {
  constructor(_port: number, _options: RuleSetOptions) {}
  async install(_specs: readonly RuleSpec[]): Promise<void> {
    throw new Error('rules are not wired yet');
  }
  async remove(): Promise<void> {}
  removeSync(): void {}
}
