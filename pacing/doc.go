// Package pacing decides how many calls a campaign places now (P-1, P-2, P-4).
//
// It is a pure computation: Decide is given a Snapshot (agents by state and time in state, calls
// in flight, the campaign's settings and its running statistics) and returns a Decision. The
// package reads no clock, starts no goroutine and does no I/O; the engine fills the snapshot and
// feeds the Estimator with the calls it observes.
//
// Modes (P-1):
//   - progressive: one call per ready agent not already covered by a call in flight; it never
//     over-dials, so it never abandons for want of an agent (persons an answering-machine
//     detector takes for machines still count as abandoned, Settings.FalsePositiveRate).
//   - ratio: a fixed number of calls per ready agent (Settings.Ratio).
//   - predictive: a look-ahead. For a new call it forecasts, at a few points of the time its live
//     answer would arrive, the live answers that arrive before it (from the calls in flight,
//     conditioned on how long each has been ringing) and the agents free by then plus the
//     connect deadline (ready agents, and busy agents from the talk and wrap-up distributions
//     conditioned on their time in state, the talks and wrap-ups under way counted among
//     those lasting longer, since the first a day sees end are the short ones). It keeps adding calls while the probability that the
//     new call's live answer finds no free agent stays under a threshold. A feedback loop steers
//     that threshold from the abandons and live answers counted in the compliance windows
//     (calendar day, rolling 24 h, rolling 30 days), so the realised abandon rate (P-2) stays
//     under the target in every window. With too little data (cold start) it dials progressively;
//     until a few talk and wrap-up times are known it counts only ready agents as supply.
//
// The day-budget guard (P-2) then caps the predictive mode so that no compliance window ends
// over its target but by a small chance: the live answers the calls in flight can bring (one
// chance per call, counted exactly, at the last 250 dials' share of persons when it has risen
// above the window's), at a count chance exceeds with probability Tuning.GuardRisk, less the
// agents free to take them in time, must stay within the abandons the windows can still take plus a credit of the rest of
// the day's answers (Snapshot.DayEnd) that shrinks to nothing as the day ends. As the budget
// runs low it cuts the calls per agent first, down to progressive ("abandon_budget_low").
//
// Answer classification: an answer is a person's once classified as one (DialResult.Classify
// is the time the verdict took). Persons and machines are classified at different times, so the
// look-ahead uses the persons' classification time for a new call, and counts a call still
// classifying as a person with the share of persons among the answers classified for longer.
// The persons the detector takes for machines are hung up on unseen; Settings.FalsePositiveRate
// estimates them and the feedback loop steers the recorded rate so that, with them counted as
// abandoned, the rate stays under the target.
//
// The Estimator learns from the calls the engine observes: outcome shares and ring times over
// the last 2000 dials, or as many more (up to 8000) as hold 500 live answers (each taken in
// once every dial placed before it has had time to end, so bursts do not bias them), talk and wrap-up times over the last 400 calls, and live answers
// and abandons per minute for the rolling 24 hours, per hour for the rolling 30 days and for
// the current calendar day in the campaign's time zone. Its memory is fixed.
//
// An Estimator is not safe for concurrent use: the engine serialises Observe* and Decide per
// campaign.
package pacing
