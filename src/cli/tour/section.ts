// One section of `ipckit tour`: a mechanism shown live between real processes, in a few lines.
export interface TourOutput {
  /** A step, as a full sentence: "A child writes 3 lines into the pipe." */
  step(text: string): void;
  /** What was observed: shown indented under the step. */
  detail(text: string): void;
}

export interface TourSection {
  /** Short title: "Pipes and FIFOs". */
  title: string;
  /** Where it goes in the tour (the survey's sections are 1..6; channels come after): the tour sorts by it
   * and numbers the sections 1..N as shown. */
  order: number;
  run(out: TourOutput): Promise<void>;
}
