// The part of autocannon (which ships no types) that the load driver uses.
declare module 'autocannon' {
  function autocannon(options: Record<string, unknown>): Promise<Record<string, unknown>>;
  export = autocannon;
}
