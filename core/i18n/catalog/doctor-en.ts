import type { Catalog } from '../i18n.js';

/** `doctor` messages (English); spread into the core catalog. */
export const doctorEn: Catalog = {
  'doctor.where': 'where',
  'doctor.fix': 'fix',
  'doctor.summary': 'Doctor found {errors} error(s) and {warnings} warning(s).',
  'doctor.allGood': 'Everything checked is fine.',
  'doctor.timedOut': 'the check took longer than 15 s',
  'doctor.crashed': 'the check crashed: {error}',
  'doctor.title': 'Doctor: {errors} error(s), {warnings} warning(s)',
  'doctor.cmd': 'Check the bot and the DingTalk app (admins)',
  'doctor.arg.only': 'only checks whose id starts with this (e.g. permissions)',
  'doctor.arg.fresh': 'probe again instead of using results from the last minutes',
  'doctor.console.credentials': 'developer console > 凭证与基础信息 (Credentials)',
  'doctor.console.permissions': 'developer console > 权限管理 (Permissions)',
  'doctor.console.stream':
    'developer console > 机器人配置 > 消息接收模式 (message receiving mode), and 版本管理与发布 (publish)',
  'doctor.console.coolApp': 'the group > 群设置 > 群应用/酷应用 (group apps): add the app',
  'doctor.console.usage': 'developer console > 资源管理 (usage)',
  'doctor.config.ok': 'valid ({file})',
  'doctor.config.defaults': 'built-in defaults',
  'doctor.storage.ok': 'writable ({dialect})',
  'doctor.storage.error': 'cannot write to the store: {error}',
  'doctor.storage.fix': 'check the database URL, that the disk has room, and that the bot may write there',
  'doctor.security.ok': 'admins named; secrets come from the environment',
  'doctor.security.noAdmins': 'no admins: nobody may run admin commands such as `doctor`, `audit`, `groups`',
  'doctor.security.noAdminsFix':
    'add your DingTalk userId to access.admins (send `whoami` to the bot to see it)',
  'doctor.security.short':
    'secrets shorter than 12 characters (words, not secrets: guessable, and the log masks them only where they stand as values): {paths}',
  'doctor.security.shortFix': 'use long random values (e.g. `openssl rand -hex 24`)',
  'doctor.security.literal': 'secrets written in the config file: {paths}',
  'doctor.security.literalFix': 'write ${VARIABLE} in the file and pass the value in the environment',
  'doctor.clock.ok': 'in step with DingTalk ({seconds} s apart)',
  'doctor.clock.skew':
    'this machine is {seconds} s {direction} DingTalk: signed callbacks and card signatures may be refused',
  'doctor.clock.ahead': 'ahead of',
  'doctor.clock.behind': 'behind',
  'doctor.clock.fix': 'synchronise the clock (NTP, e.g. chrony or systemd-timesyncd)',
  'doctor.clock.unknown': "could not compare with DingTalk's clock ({error})",
  'doctor.clock.noDate': "DingTalk's answer had no Date header to compare with",
  'doctor.credentials.none': 'no DingTalk credentials: the bot runs on the embedded simulator',
  'doctor.credentials.ok': 'DingTalk issues tokens for {clientId}',
  'doctor.credentials.wrong': 'DingTalk refused the credentials ({code}): wrong clientId or clientSecret',
  'doctor.credentials.wrongFix':
    "copy Client ID and Client Secret again from the app's credentials page (a reset secret invalidates the old one)",
  'doctor.credentials.server': 'DingTalk answered {status}: try again in a minute',
  'doctor.credentials.network': 'cannot reach {host}: {error}',
  'doctor.credentials.networkFix': 'allow outbound HTTPS to {host}:443 (proxy: HTTPS_PROXY), check DNS',
  'doctor.gateway.ok': 'the Stream gateway accepts the app',
  'doctor.gateway.refused': 'the Stream gateway refused the app (HTTP {status} {detail})',
  'doctor.gateway.fix':
    'publish the app (版本管理与发布), enable the robot, choose Stream mode as its message receiving mode, and check the credentials',
  'doctor.gateway.serverFix': "DingTalk's gateway is unavailable: the bot keeps retrying; check again later",
  'doctor.gateway.network': 'cannot reach the Stream gateway: {error}',
  'doctor.gateway.networkFix':
    'allow outbound HTTPS and WSS to api.dingtalk.com and wss-open-connection.dingtalk.com (port 443); proxies must pass WebSocket upgrades',
  'doctor.publicUrl.ok': 'callbacks go to {url}',
  'doctor.publicUrl.http':
    '{url} is plain http: fine for trying locally, but DingTalk only calls https addresses',
  'doctor.publicUrl.httpFix':
    'put the bot behind a TLS-terminating proxy and set server.publicUrl to its https address',
  'doctor.reachable.ok': '{url} answers',
  'doctor.reachable.status': '{url}/healthz answered HTTP {status}',
  'doctor.reachable.error': '{url} is not reachable from here: {error}',
  'doctor.reachable.fix':
    'check the proxy/load balancer routes server.publicUrl to this bot, and its TLS certificate',
  'doctor.state.notRunning': 'the connection is checked in the running bot (`doctor` in chat)',
  'doctor.state.ok': '{name}: {status}, {last}',
  'doctor.state.down': '{name}: {status} {detail} ({last})',
  'doctor.state.problem': '{name}: {status}, {last}; but {problem}',
  'doctor.state.encryptedWithoutKey':
    'a robot message arrived encrypted and was refused: dingtalk.aesKey is not set (set it to the aes_key of the app in the developer console, or turn message encryption off)',
  'doctor.state.fix': 'see the gateway check above and the log; the bot reconnects by itself',
  'doctor.state.never': 'nothing received yet',
  'doctor.state.ago': 'last frame {seconds} s ago',
  'doctor.permissions.ok': '{scope} granted (needed by {by})',
  'doctor.permissions.missing': '{scope} is not granted (needed by {by})',
  'doctor.permissions.seenMissing': '{scope} is not granted: DingTalk refused {api} for it (needed by {by})',
  'doctor.permissions.unprobed':
    '{scope} (needed by {by}): no harmless probe; watch the log for permission errors',
  'doctor.permissions.unknown': '{scope}: could not probe ({error})',
  'doctor.permissions.fix': 'developer console > 权限管理: search {scope}, apply, then publish a new version',
  'doctor.groups.binding': '“{title}” means the group {id} (now titled “{now}”), bound by {by}',
  'doctor.groups.unbound': '“{title}” is named but bound to no group: what is sent to it waits',
  'doctor.groups.unboundFix':
    'in the group meant, an admin says `groups bind {title}` (or name its openConversationId in the config)',
  'doctor.groups.ok': 'the app is in {count} group(s): {titles}',
  'doctor.groups.none':
    'the bot knows no group with the app installed: group messages and routing by title cannot work yet',
  'doctor.groups.noneFix': 'add the app (cool app / robot) to a group, then @mention the bot there once',
  'doctor.people.none': 'no people configured',
  'doctor.people.userId': '{name}: userId {userId}',
  'doctor.people.found': '{name}: DingTalk user {userId}',
  'doctor.people.noContact': '{name} has neither a userId nor a mobile: the bot cannot reach them',
  'doctor.people.noContactFix': 'add userId or mobile to the person in `people`',
  'doctor.people.notLinked':
    "{name}: nobody in the organisation has mobile {mobile} (not linked to the app's organisation)",
  'doctor.people.notLinkedFix':
    "check the number, that the person belongs to this organisation (not an external contact), and that the app's visibility scope includes them",
  'doctor.people.unknown': '{name}: could not look up ({error})',
  'doctor.quota.refused':
    "DingTalk refuses calls this month: the organisation's API quota is used up ({used} counted by dingops, limit set to {limit})",
  'doctor.quota.ok': '{used} of {limit} API calls this month ({percent}%), about {projected} by month end',
  'doctor.quota.high': '{used} of {limit} API calls this month ({percent}%), about {projected} by month end',
  'doctor.quota.nearly': 'the monthly API quota is nearly used up: {used} of {limit} ({percent}%)',
  'doctor.quota.fix':
    'fewer card updates (digests, longer group_interval), or a higher edition; dingtalk.limits.monthlyCalls must match the edition',
};
