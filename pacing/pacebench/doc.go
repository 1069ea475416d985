// Package pacebench is the pacing benchmark of docs/pacing.md (`kakeru pacebench`): a
// discrete-event simulation in virtual time that drives the pacing package through the same
// Snapshot the engine fills, and compares five policies on scenario files.
//
// Model choices, where docs/pacing.md leaves room:
//   - Common random numbers: each (seed, shift) has its own random stream, and the k-th dial of
//     a shift meets the k-th customer of that stream under every policy: one draw decides its
//     outcome, and its ring, machine-answer, failure, talk and wrap-up times are drawn whether
//     used or not. The outcome is a person when the draw is under the live-answer rate in force
//     when it is dialed (hit_rate_schedule), a machine when under that plus machine_rate;
//     otherwise a second draw under fail_share makes it fail after fail_time, and the rest ring
//     out after no_answer_timeout. A person or machine whose answer would come after
//     no_answer_timeout rings out instead.
//   - Answer classification is the engine's (issue 15), set by the scenario's amd block
//     (AMD, DefaultAMD): a detector gives a verdict on every answer. A person is called human
//     after its greeting plus human_silence (≈ 1.5 s); unsure (a share of persons: silence, no
//     greeting) at time_limit, then treated as a person; taken for a machine (false_positive)
//     at time_limit and hung up on; or hangs up during classification (hangup). A machine is
//     called machine at min(beep, time_limit) and hung up on (the hang-up action: agents never
//     see machines), or taken for a person (false_negative) after a person's time. The
//     classification draws come from a stream of their own, so the other draws of a dial are
//     those of the fixed-delay model. A file that sets amd_delay (and no amd block) keeps the
//     old model: every answer classified correctly after amd_delay.
//   - What is answered as a person (human, unsure, a false negative) is bridged to the ready
//     agent idle longest; with none ready the call waits, is bridged to the first agent that
//     finishes wrap-up, and is abandoned when connect_deadline passes first (the deadline
//     counts from the end of classification, as the regulators count from the end of the
//     greeting). A false negative holds its agent for machine_hold (the agent hears the
//     greeting and hangs up; it counts as talk time), then the agent wraps up.
//   - Abandon rates are the regulator's, over persons: abandoned = persons dropped at the
//     deadline + false positives + hang-ups during classification; live answers = persons
//     answered. False negatives count in neither. The policies see only what the engine
//     records: the estimator learns the verdicts (a false positive as a machine, a false
//     negative as a person, with its drop as an abandon), and kakeru's campaign setting
//     FalsePositiveRate is the scenario's false_positive share, as an operator would configure
//     the detector's estimate; vicidial-adapt counts the recorded drops and live answers.
//   - An agent talks, wraps up, and is ready again. Agents are logged in for the whole shift
//     unless agents_schedule changes their number: then ready agents log out at once, busy
//     ones after their wrap-up (pacing sees them until then), and new ones log in ready; the
//     machine rate can change like the live-answer rate (machine_rate_schedule). Occupancy is
//     talk time inside the shift over the agent-seconds logged in; wait is ready time per
//     connect. Dialing stops at the end of the shift; calls in flight then are followed to
//     their end so every live answer is counted as connected or abandoned.
//   - Abandon rate of a shift = abandoned ÷ live answers (above). The table's mean is the mean
//     of the shifts' rates; the 95th percentile interpolates between the shifts' order
//     statistics. The reported rate of a shift is the dialer's (Ofcom's count): recorded
//     abandons plus the estimated false positives (the campaign's estimate) over recorded live
//     answers plus those; "days > target" counts the shifts whose reported rate ended above
//     the target, "true > target" those whose rate over persons did.
//   - progressive, ratio and kakeru call pacing.Decide every second and whenever an agent
//     becomes ready. kakeru is the predictive mode with pacing.DefaultTuning(), fed by a fresh
//     Estimator each shift (cold start every day), the same for every scenario; its calling
//     day ends with the shift (Snapshot.DayEnd), as a calendar's hours would.
//   - ratio's ratio is bisected (log scale, in [1, 20]) to the highest whose mean abandon is at
//     or under the target (with Options.TuneShifts, on the first shifts only, the value found
//     then run on all). Every policy has the same cap of MaxCallsPerAgent calls in flight per
//     agent.
//   - oracle is pacing.LookAhead given each busy agent's exact free time and an estimator filled
//     with 20,000 draws of the scenario's true distributions, verdicts and classification times
//     (one per live-answer rate of the schedule, switched at the step), its threshold bisected (log scale) to the highest whose
//     mean abandon is at or under the target; it never dials fewer than progressive.
//   - vicidial-adapt follows docs/pacing.md's ADAPT_HARD_LIMIT restatement on a 0.5 s clock: dial step
//     every 2.5 s, sample every 1 s, adapt every 15 s, check every 60 s. "Calls in progress" are
//     the calls ringing, being classified, waiting, or bridged to an agent (so level 1.0 is
//     progressive); "agents" are ready plus on a call; today's drop rate is drops ÷ live
//     answers. When the check finds today's rate over 3% the level is set to 1.0 and held there
//     (the 15 s update does not raise it) until a later check finds the rate back under 3%.
//   - Shifts run in parallel (GOMAXPROCS at once); results do not depend on the schedule.
package pacebench
