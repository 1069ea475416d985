// Package labtest runs kakeru against a real FreeSWITCH: the lab switch that
// scripts/freeswitch-lab.sh builds from source and configures (loopback endpoint, event socket on
// 127.0.0.1:18021, the fate-encoding customers context of scripts/freeswitch-lab-config.sh).
//
// Its files carry the build tag lab, so `make test` does not compile them. Run them with
//
//	make test-lab
//
// which starts the lab switch (building it the first time, a few minutes) and then runs
//
//	go test -race -count=1 -tags lab -timeout 30m ./labtest/...
//
// One test alone: go test -tags lab -run TestLabHappyPath -v ./labtest/
//
// The tests need PostgreSQL on 127.0.0.1:5432 (database kakeru_lab is dropped and recreated) and
// Redis on 127.0.0.1:6379 (database 13 is flushed), as scripts/services.sh provides. They fail,
// never skip, when the switch does not answer.
//
// Environment:
//
//	KAKERU_LAB_ESL_ADDR      the lab switch's event socket (default 127.0.0.1:18021)
//	KAKERU_LAB_ESL_PASSWORD  its password (default kakeru-lab)
//	KAKERU_LAB_SRC           the kakeru source tree under test (default: this repository);
//	                         its ./cmd/kakeru is built once and its config.example.yaml is the
//	                         base of the generated configuration
//	KAKERU_LAB_BIN           a kakeru binary to run instead of building one
//	KAKERU_LAB_LOGDIR        where each test keeps its configuration, the instance's log and
//	                         recordings (default $TMPDIR/kakeru-lab)
//	KAKERU_LAB_LOG_LEVEL     the instance's --log-level (default info)
//	KAKERU_LAB_PG_ADMIN_DSN  PostgreSQL maintenance database (default postgres://postgres@127.0.0.1:5432/postgres)
//	KAKERU_LAB_REDIS_ADDR    Redis (default 127.0.0.1:6379)
//
// The Observer is an event-socket client of the tests' own (not the engine's freeswitch
// package): it keeps each channel's story from CHANNEL_CREATE, CHANNEL_ANSWER, CHANNEL_BRIDGE,
// CHANNEL_UNBRIDGE, CHANNEL_HANGUP_COMPLETE, conference::maintenance add-member/del-member, the
// applications a leg runs (CHANNEL_EXECUTE) and mod_avmd's beeps (avmd::beep),
// so the tests compare what the switch did with what the engine recorded in PostgreSQL,
// whichever way the engine puts a customer with an agent (uuid_bridge or the agent's room).
//
// What the lab switch showed (FreeSWITCH 1.11.1, 2 cores):
//   - `show channels` is read from the core database, which a background thread fills in
//     batches: a new channel is missing from it for 0 to about 250 ms after its CHANNEL_CREATE
//     (p50 about 130 ms, alone or 100 at once) and a finished one stays listed for 0 to about
//     200 ms after its CHANNEL_HANGUP_COMPLETE. `uuid_exists` answers from the live sessions:
//     true as soon as CHANNEL_CREATE is out, false once CHANNEL_HANGUP_COMPLETE is. Decide
//     whether a channel is up with uuid_exists; use show channels only to find candidates.
//   - A loopback pair's a-leg and b-leg are created and answered in the same millisecond for the
//     agents context; an originate's BACKGROUND_JOB arrives about 20 ms after the a-leg's
//     CHANNEL_ANSWER.
//   - `uuid_broadcast` sent on an a-leg's CHANNEL_ANSWER, before its originate has returned,
//     answers +OK and is lost about one time in seven (nothing plays: hold music that never
//     starts). uuid_transfer and uuid_bridge sent at the same moment took effect in 150 tries
//     each.
//   - A uuid_transfer that lands after the customer's `bgapi originate … &park()` has connected
//     but before it has started park is lost: the switch logs "Transfer … to inline[…]" and
//     answers +OK, then mod_commands' originate sets the &park() extension and CS_EXECUTE over
//     it, and the customer waits in park, in silence, without add-member (19 of 740 customers
//     the engine moved on their CHANNEL_ANSWER, most of them answering at once; a bare probe
//     did not hit the window in 350 tries). mod_commands sends the BACKGROUND_JOB only after setting CS_EXECUTE, so a
//     transfer sent once the BACKGROUND_JOB has arrived cannot be overridden; a transfer that
//     lands earlier, while the originate still runs, wins and the BACKGROUND_JOB says
//     -ERR ORIGINATOR_CANCEL.
//   - A customer moved into an agent's room with uuid_transfer … conference:ROOM@kakeru inline
//     shows add-member about 25 ms after the transfer; Conference-Name is ROOM without the
//     profile. mod_conference takes conference_moh_sound from the member that creates the room
//     when the profile has no moh-sound, and a joining member's conference_enter_sound wins over
//     the profile's enter-sound.
//   - Inside an originate's {…} variables a comma separates variables: a tone_stream such as
//     %(1000,4000,440) must have its commas escaped (\,) or the variable is cut at the first one.
//   - Answer analysis (analysis_test.go; numbers 0910 persons, 0911 machines, 0912 silence): with
//     the avmd detector, 300-contact runs classified every person human in 1.38 s (p50), every
//     machine by its greeting in 2.38 s, every silence unsure at the 3 s limit; mod_avmd heard
//     the machines' beep 70-110 ms after it started (4.1 s after the answer) and never on a
//     person. wait_for_silence hears nothing on loopback legs (their frames carry no sequence
//     number), hence detect_audio and detect_silence. Six calls reaching agents at once each
//     asked the switch to create the same day's recording directory: one was refused ("Cannot
//     record session!"), and asked again at once, succeeded.
//   - The agent's desk (desk_switch_test.go, rooms.go; docs/event-socket.md §4.7): a customer
//     moved from room to room (hold room, xfer room) keeps its Member-ID; a room left empty is
//     destroyed 20 ms later; a room's hold music is the conference_moh_sound of the member that
//     made it. `loopback/conference:ROOM_B@kakeru/default/inline &conference(ROOM_A@kakeru)`
//     joins two rooms: its b leg (a UUID of the switch's; other_loopback_leg_uuid names the a
//     leg) is in ROOM_B before the originate returns. Killing the a leg ends the b leg
//     NORMAL_CLEARING whatever the cause; killing the b leg ends the a leg with its cause or, as
//     often, NORMAL_CLEARING. `conference NAME list` says who is in a room
//     (Switch.RoomMembers, Switch.HearEachOther). Transfer targets: 0905… answers and stays up
//     until hung up, 0903… never answers (originate_timeout ends it: -ERR NO_ANSWER), 0902… is
//     busy.
package labtest
