#!/usr/bin/env bash
# Writes the lab switch's configuration: a small FreeSWITCH configuration of kakeru's own that
# replaces everything installed under ETC_DIR (the vanilla files are not used at all).
#
#   scripts/freeswitch-lab-config.sh ETC_DIR PORT PASSWORD
#
# ETC_DIR is PREFIX/etc/freeswitch of a lab build (scripts/freeswitch-lab.sh config calls this).
# The lab has no SIP, no sound files and nothing that reaches the network: loopback legs only,
# the event socket on 127.0.0.1:PORT, and two dialplan contexts:
#
#   customers   the number encodes its fate (see the dialplan below):
#                 08RTTTNNNNN  ring R s (0-9), answer, talk TTT s, hang up NORMAL_CLEARING
#                              (TTT=000 hangs up at the instant of answer)
#                 0902…  USER_BUSY without answer     0903…  rings until the originate times out
#                 0904…  UNALLOCATED_NUMBER           0905…  answers and stays up (600 s)
#                 0906…  CALL_REJECTED                0907…  NORMAL_TEMPORARY_FAILURE
#               answer analysis (issue 15; mod_avmd is loaded, see avmd.conf below):
#                 0910RTTTNNNN  a person: ring R s, answer, "hello?" (0.6 s of speech-like
#                               dual-frequency tones), silence for TTT s, hang up
#                 0911RNNNNNNN  a machine: ring R s, answer, a 4 s greeting of speech-like tones,
#                               a 0.5 s 1000 Hz beep (mod_avmd hears it ~0.09 s after it starts),
#                               20 s of silence (the message), hang up
#                 0912RTTTNNNN  silence: ring R s, answer, TTT s of silence, hang up
#               The lab's legs are loopback legs, whose audio frames carry no sequence number:
#               wait_for_silence skips such frames and hears nothing (it always times out with
#               0 listen hits); detect_audio / detect_silence and mod_avmd hear them.
#                 anything else: NO_ROUTE_DESTINATION
#   agents      agent-N and supervisor-N answer and park
#
# Conference profiles `kakeru` and `default` (same settings): 8 kHz, 20 ms, a short beep when a
# member enters, no other sounds and no moh-sound (the engine sets conference_moh_sound on the
# agent's leg; the lab plays a tone_stream as hold music).
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 ETC_DIR PORT PASSWORD" >&2
  exit 2
fi
ETC=$1
PORT=$2
PASSWORD=$3

case "$PORT" in '' | *[!0-9]*) echo "$0: port must be a number: $PORT" >&2; exit 2 ;; esac
case "$PASSWORD" in '' | *[!A-Za-z0-9._-]*)
  echo "$0: password must be letters, digits, '.', '_' or '-'" >&2; exit 2 ;;
esac
# Refuse to empty a directory that is not a FreeSWITCH configuration directory.
case "$ETC" in */etc/freeswitch | */etc/freeswitch/) ;; *)
  echo "$0: $ETC does not end in etc/freeswitch" >&2; exit 2 ;;
esac

# Write the new tree beside the old one, then swap, so a failure leaves the old one in place.
NEW=$(mktemp -d "${ETC%/}.new.XXXXXX")
trap 'rm -rf "$NEW"' EXIT
chmod 755 "$NEW"
mkdir -p "$NEW/autoload_configs" "$NEW/dialplan"

cat >"$NEW/freeswitch.xml" <<'EOF'
<?xml version="1.0"?>
<!-- kakeru lab switch (scripts/freeswitch-lab-config.sh): loopback legs, event socket, no SIP. -->
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration" description="Module configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Lab dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
EOF

# Global variables. The installed defaults ask a public STUN server for external_rtp_ip and
# external_sip_ip at start-up, which cannot be reached from the lab: both are fixed here.
cat >"$NEW/vars.xml" <<'EOF'
<include>
  <X-PRE-PROCESS cmd="set" data="external_rtp_ip=127.0.0.1"/>
  <X-PRE-PROCESS cmd="set" data="external_sip_ip=127.0.0.1"/>
  <X-PRE-PROCESS cmd="set" data="domain=127.0.0.1"/>
  <X-PRE-PROCESS cmd="set" data="domain_name=127.0.0.1"/>
  <X-PRE-PROCESS cmd="set" data="default_language=en"/>
  <X-PRE-PROCESS cmd="set" data="console_loglevel=info"/>
  <!-- Speech-like sounds of the answer-analysis numbers: back-to-back dual-frequency tones of
       60-140 ms. hello: 0.6 s; greeting: a 1 s phrase said four times. -->
  <X-PRE-PROCESS cmd="set" data="lab_speech_hello=tone_stream://%(110,0,310,560);%(90,0,420,730);%(130,0,360,640);%(80,0,500,880);%(120,0,330,610);%(70,0,450,790)"/>
  <X-PRE-PROCESS cmd="set" data="lab_speech_greeting=tone_stream://%(100,0,300,540);%(80,0,410,700);%(120,0,350,620);%(60,0,520,860);%(110,0,330,590);%(90,0,460,780);%(140,0,380,650);%(70,0,490,820);%(130,0,340,600);%(100,0,430,740);loops=4"/>
</include>
EOF

cat >"$NEW/autoload_configs/modules.conf.xml" <<'EOF'
<configuration name="modules.conf" description="Modules the lab loads (exactly those it builds)">
  <modules>
    <load module="mod_console"/>
    <load module="mod_logfile"/>
    <load module="mod_event_socket"/>
    <load module="mod_commands"/>
    <load module="mod_conference"/>
    <load module="mod_dptools"/>
    <load module="mod_dialplan_xml"/>
    <load module="mod_loopback"/>
    <load module="mod_sndfile"/>
    <load module="mod_tone_stream"/>
    <load module="mod_local_stream"/>
    <load module="mod_avmd"/>
  </modules>
</configuration>
EOF

# The core: many sessions per second for predictive bursts; the core database stays the default
# SQLite file under PREFIX/var/lib/freeswitch/db, created and cleared at every start.
cat >"$NEW/autoload_configs/switch.conf.xml" <<'EOF'
<configuration name="switch.conf" description="Core">
  <settings>
    <param name="colorize-console" value="false"/>
    <param name="dialplan-timestamps" value="false"/>
    <param name="max-db-handles" value="50"/>
    <param name="db-handle-timeout" value="10"/>
    <param name="auto-create-schemas" value="true"/>
    <param name="auto-clear-sql" value="true"/>
    <param name="sessions-per-second" value="1000"/>
    <param name="max-sessions" value="5000"/>
    <param name="loglevel" value="info"/>
    <param name="dump-cores" value="no"/>
    <param name="rtp-enable-zrtp" value="false"/>
  </settings>
</configuration>
EOF

cat >"$NEW/autoload_configs/event_socket.conf.xml" <<EOF
<configuration name="event_socket.conf" description="Event socket">
  <settings>
    <param name="nat-map" value="false"/>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="$PORT"/>
    <param name="password" value="$PASSWORD"/>
    <param name="apply-inbound-acl" value="loopback.auto"/>
    <param name="stop-on-bind-error" value="true"/>
  </settings>
</configuration>
EOF

cat >"$NEW/autoload_configs/console.conf.xml" <<'EOF'
<configuration name="console.conf" description="Console logger">
  <mappings>
    <map name="all" value="info,notice,warning,err,crit,alert"/>
  </mappings>
  <settings>
    <param name="colorize" value="false"/>
    <param name="loglevel" value="info"/>
  </settings>
</configuration>
EOF

# PREFIX/var/log/freeswitch/freeswitch.log, each line prefixed by the channel's uuid.
cat >"$NEW/autoload_configs/logfile.conf.xml" <<'EOF'
<configuration name="logfile.conf" description="File logger">
  <settings>
    <param name="rotate-on-hup" value="true"/>
  </settings>
  <profiles>
    <profile name="default">
      <settings>
        <param name="rollover" value="104857600"/>
        <param name="maximum-rotate" value="4"/>
        <param name="uuid" value="true"/>
      </settings>
      <mappings>
        <map name="all" value="info,notice,warning,err,crit,alert"/>
      </mappings>
    </profile>
  </profiles>
</configuration>
EOF

# The lab installs no sound files (its hold music is a tone_stream). mod_local_stream refuses to
# load without a stream, so `moh` is an empty directory: local_stream://moh plays silence.
MOH_DIR="$(dirname "$(dirname "${ETC%/}")")/share/freeswitch/sounds/kakeru-lab-moh"
mkdir -p "$MOH_DIR"
cat >"$NEW/autoload_configs/local_stream.conf.xml" <<EOF
<configuration name="local_stream.conf" description="Local streams">
  <directory name="moh" path="$MOH_DIR">
    <param name="rate" value="8000"/>
    <param name="shuffle" value="false"/>
    <param name="channels" value="1"/>
    <param name="interval" value="20"/>
    <param name="timer-name" value="soft"/>
  </directory>
</configuration>
EOF

# mod_avmd (voicemail beep detection) with its documented defaults, written out because a missing
# parameter is logged as an error. outbound_channel=1: detection runs on the leg the engine
# originated and reads the far end's audio; report_status=0 keeps the log quiet.
cat >"$NEW/autoload_configs/avmd.conf.xml" <<'EOF'
<configuration name="avmd.conf" description="Voicemail beep detection">
  <settings>
    <param name="debug" value="0"/>
    <param name="report_status" value="0"/>
    <param name="fast_math" value="0"/>
    <param name="require_continuous_streak" value="1"/>
    <param name="sample_n_continuous_streak" value="3"/>
    <param name="sample_n_to_skip" value="0"/>
    <param name="require_continuous_streak_amp" value="1"/>
    <param name="sample_n_continuous_streak_amp" value="3"/>
    <param name="simplified_estimation" value="1"/>
    <param name="inbound_channel" value="0"/>
    <param name="outbound_channel" value="1"/>
    <param name="detection_mode" value="2"/>
    <param name="detectors_n" value="36"/>
    <param name="detectors_lagged_n" value="1"/>
  </settings>
</configuration>
EOF

# Two identical profiles: `kakeru` for the engine's agent rooms, `default` for tools and captures
# that name the installed profile. No moh-sound: when a profile has none, mod_conference takes the
# first member's conference_moh_sound channel variable, which the engine sets. No sound files.
conference_profile() {
  cat <<EOF
    <profile name="$1">
      <param name="domain" value="127.0.0.1"/>
      <param name="rate" value="8000"/>
      <param name="interval" value="20"/>
      <param name="energy-level" value="0"/>
      <param name="comfort-noise" value="false"/>
      <param name="caller-controls" value="none"/>
      <param name="enter-sound" value="tone_stream://%(200,0,1000)"/>
      <param name="suppress-events" value="start-talking,stop-talking,mute-detect,floor-change"/>
    </profile>
EOF
}
{
  echo '<configuration name="conference.conf" description="Agent rooms">'
  echo '  <profiles>'
  conference_profile kakeru
  conference_profile default
  echo '  </profiles>'
  echo '</configuration>'
} >"$NEW/autoload_configs/conference.conf.xml"

cat >"$NEW/dialplan/lab.xml" <<'EOF'
<include>
  <!-- Customers: the number is the call's fate. -->
  <context name="customers">
    <!-- 08RTTTNNNNN: ring R seconds, answer, talk TTT seconds, hang up. -->
    <extension name="answer-talk-hangup">
      <condition field="destination_number" expression="^08(\d)(\d{3})(\d{5})$">
        <action application="set" data="lab_ring_s=$1"/>
        <action application="set" data="lab_talk_s=$2"/>
        <action application="ring_ready"/>
        <action application="sleep" data="${lab_ring_s}000"/>
        <action application="answer"/>
        <action application="sleep" data="${lab_talk_s}000"/>
        <action application="hangup" data="NORMAL_CLEARING"/>
      </condition>
    </extension>
    <!-- Answer analysis (mod_avmd, wait_for_silence): speech is imitated by short dual-frequency
         tones, which neither carry a steady frequency (no beep for mod_avmd) nor leave a silence
         longer than 20 ms between them. -->
    <!-- 0910RTTTNNNN: a person: ring R s, answer, "hello?" (0.6 s of speech-like tones), then
         silence for the rest of TTT s, hang up. -->
    <extension name="person">
      <condition field="destination_number" expression="^0910(\d)(\d{3})(\d{4})$">
        <action application="set" data="lab_ring_s=$1"/>
        <action application="set" data="lab_talk_s=$2"/>
        <action application="ring_ready"/>
        <action application="sleep" data="${lab_ring_s}000"/>
        <action application="answer"/>
        <action application="playback" data="$${lab_speech_hello}"/>
        <action application="sleep" data="${lab_talk_s}000"/>
        <action application="hangup" data="NORMAL_CLEARING"/>
      </condition>
    </extension>
    <!-- 0911RNNNNNNN: an answering machine: ring R s, answer, a 4 s greeting of speech-like
         tones, a 0.5 s beep of 1000 Hz, then 20 s of silence (the message), hang up. -->
    <extension name="machine">
      <condition field="destination_number" expression="^0911(\d)(\d{7})$">
        <action application="set" data="lab_ring_s=$1"/>
        <action application="ring_ready"/>
        <action application="sleep" data="${lab_ring_s}000"/>
        <action application="answer"/>
        <action application="playback" data="$${lab_speech_greeting}"/>
        <action application="playback" data="tone_stream://%(500,0,1000)"/>
        <action application="sleep" data="20000"/>
        <action application="hangup" data="NORMAL_CLEARING"/>
      </condition>
    </extension>
    <!-- 0912RTTTNNNN: nobody speaks: ring R s, answer, TTT s of silence, hang up. -->
    <extension name="silence">
      <condition field="destination_number" expression="^0912(\d)(\d{3})(\d{4})$">
        <action application="set" data="lab_ring_s=$1"/>
        <action application="set" data="lab_talk_s=$2"/>
        <action application="ring_ready"/>
        <action application="sleep" data="${lab_ring_s}000"/>
        <action application="answer"/>
        <action application="sleep" data="${lab_talk_s}000"/>
        <action application="hangup" data="NORMAL_CLEARING"/>
      </condition>
    </extension>
    <extension name="busy">
      <condition field="destination_number" expression="^0902\d*$">
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
    <extension name="no-answer">
      <condition field="destination_number" expression="^0903\d*$">
        <action application="ring_ready"/>
        <action application="sleep" data="600000"/>
        <action application="hangup" data="NO_ANSWER"/>
      </condition>
    </extension>
    <extension name="unallocated">
      <condition field="destination_number" expression="^0904\d*$">
        <action application="hangup" data="UNALLOCATED_NUMBER"/>
      </condition>
    </extension>
    <extension name="answer-stay">
      <condition field="destination_number" expression="^0905\d*$">
        <action application="answer"/>
        <action application="sleep" data="600000"/>
        <action application="hangup" data="NORMAL_CLEARING"/>
      </condition>
    </extension>
    <extension name="rejected">
      <condition field="destination_number" expression="^0906\d*$">
        <action application="hangup" data="CALL_REJECTED"/>
      </condition>
    </extension>
    <extension name="temporary-failure">
      <condition field="destination_number" expression="^0907\d*$">
        <action application="hangup" data="NORMAL_TEMPORARY_FAILURE"/>
      </condition>
    </extension>
    <extension name="no-route">
      <condition field="destination_number" expression="^.*$">
        <action application="log" data="WARNING lab: no fate for customer number ${destination_number}"/>
        <action application="hangup" data="NO_ROUTE_DESTINATION"/>
      </condition>
    </extension>
  </context>

  <!-- Agents' and supervisors' phones: answer and stay parked until the engine hangs up. -->
  <context name="agents">
    <extension name="agent">
      <condition field="destination_number" expression="^agent-(\d+)$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="supervisor">
      <condition field="destination_number" expression="^supervisor-(\d+)$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="no-route">
      <condition field="destination_number" expression="^.*$">
        <action application="log" data="WARNING lab: no phone ${destination_number}"/>
        <action application="hangup" data="NO_ROUTE_DESTINATION"/>
      </condition>
    </extension>
  </context>
</include>
EOF

# Swap: the old tree goes away only once the new one is complete.
mkdir -p "$(dirname "${ETC%/}")"
if [ -d "$ETC" ]; then
  OLD="${ETC%/}.old.$$"
  mv "$ETC" "$OLD"
  mv "$NEW" "$ETC"
  rm -rf "$OLD"
else
  mv "$NEW" "$ETC"
fi
trap - EXIT
echo "freeswitch-lab: configuration written to $ETC (event socket 127.0.0.1:$PORT)" >&2
