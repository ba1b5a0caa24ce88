import type { Catalog } from '../i18n.js';
import { doctorEn } from './doctor-en.js';

export const en: Catalog = {
  'card.replyWith': 'Reply with {commands}',
  'card.moreLines': '… +{count} more',

  'help.title': 'Commands you can run here',
  'help.coreGroup': 'Core',
  'help.footer': 'Send `help <command>` or `<command> --help` for details.',
  'help.usage': 'Usage',
  'help.aliases': 'Aliases',
  'help.roles': 'Roles',
  'help.where': 'Where',
  'help.only.direct': 'direct messages only',
  'help.only.group': 'group chats only',
  'help.default': 'default',
  'help.params': 'Parameters',
  'help.subcommands': 'Subcommands',
  'help.examples': 'Examples',

  'pipeline.textOnly': 'I can only read text messages. Send `help` to see what I can do.',
  'pipeline.empty': 'Hi! Send `help` to see what I can do.',
  'pipeline.unknown': 'Unknown command `{command}`. Send `help` to see what you can run.',
  'pipeline.unknownWithSuggestion': 'Unknown command `{command}`. Did you mean {suggestions}?',
  'pipeline.unknownSub': '`{command}` has no subcommand `{sub}`',
  'pipeline.didYouMean': 'Did you mean {suggestions}?',
  'pipeline.badArgs': 'Cannot run `{command}`',
  'pipeline.helpHint': 'Send `{command} --help` for details.',
  'pipeline.internalError':
    'Something went wrong on my side (ref {ref}). The operator can find it in the log.',
  'pipeline.confirmTitle': 'Please confirm',
  'pipeline.confirmQuestion': '`{command}` changes things. Run it?',
  'pipeline.confirmButton': 'Confirm',
  'pipeline.confirmFooter': 'Or send `{command}`. This request expires in 2 minutes.',
  'pipeline.confirmExpired': 'This confirmation has expired. Run the command again.',
  'pipeline.confirmNotYours': 'Only the person who ran the command can confirm it.',

  'parse.unclosedQuote': 'A quote opened at character {position} is never closed.',
  'parse.tooManyTokens': 'The command is too long.',
  'parse.unknownOption': 'Unknown option `{option}`. To pass a value starting with `-`, put it after `--`.',
  'parse.unknownOptionSuggest':
    'Unknown option `{option}`; did you mean `{suggestion}`? To pass a value starting with `-`, put it after `--`.',
  'parse.duplicateOption': 'Option `{option}` is given twice.',
  'parse.missingOptionValue': 'Option `{option}` needs a value.',
  'parse.missingOption': 'Option `{option}` is required.',
  'parse.missingArg': 'Missing `{name}`.',
  'parse.unexpectedArg': 'Unexpected `{value}`. Quote values that contain spaces.',
  'parse.invalidInt': '`{name}` must be a whole number, not `{value}`.',
  'parse.invalidNumber': '`{name}` must be a number, not `{value}`.',
  'parse.invalidDuration': '`{name}` must be a duration such as 90s, 15m, 2h or 1d, not `{value}`.',
  'parse.invalidChoice': '`{name}` must be one of {choices}, not `{value}`.',
  'parse.invalidChoiceSuggest':
    '`{name}` must be one of {choices}, not `{value}`. Did you mean `{suggestion}`?',
  'parse.invalidBoolean': '`{name}` must be yes or no, not `{value}`.',
  'parse.invalidUser': '`{name}` must be an @mention or a userId, not `{value}`.',
  'parse.patternMismatch': '`{name}` has an invalid value `{value}`.',
  'parse.tooLong': '`{name}` is longer than {max} characters.',
  'parse.outOfRange': '`{name}` must be between {min} and {max}, not `{value}`.',

  'access.denied.role':
    'You are not allowed to run `{command}` (needs role: {roles}). Ask an admin to add you in `access.roles`.',
  'access.denied.user':
    'You are not allowed to run `{command}`. Ask an admin to add you in `access.commands`.',
  'access.denied.directOnly': '`{command}` only works in a direct message to me.',
  'access.denied.groupOnly': '`{command}` only works in a group chat.',
  'access.denied.conversation': '`{command}` is not allowed in this conversation.',

  'action.unknown': 'This button ({action}) is no longer handled by the bot.',

  'builtin.help.description': 'Show commands, or details of one command',
  'builtin.help.topic': 'A command to explain',
  'builtin.ping.description': 'Check that the bot answers',
  'builtin.ping.pong': 'pong',
  'builtin.whoami.description': 'Show your DingTalk ids and dingops roles',
  'builtin.whoami.title': 'You are {nick}',
  'builtin.whoami.userId': 'userId',
  'builtin.whoami.noUserId':
    '(none: your account is not in the bot’s organisation, or the app is not published)',
  'builtin.whoami.roles': 'Roles',
  'builtin.whoami.noRoles': '(none)',
  'builtin.whoami.conversation': 'Conversation',
  'builtin.status.description': 'Show uptime, connection, plugins and queues',
  'builtin.status.title': 'dingops {version}',
  'builtin.status.uptime': 'Uptime',
  'builtin.audit.description': 'Show recent commands and card actions',
  'builtin.audit.user': 'Only this user',
  'builtin.audit.command': 'Only this command',
  'builtin.audit.limit': 'How many entries',
  'builtin.audit.title': 'Last {count} audit entries',
  'builtin.audit.empty': 'No audit entries match.',
  'builtin.groups.description': 'List the group chats the bot knows and where it is installed',
  'builtin.groups.title': 'Groups: installed in {installed} of {total}',
  'builtin.groups.empty':
    'I do not know any group yet. Install the cool app (or add the robot) in a group chat, or @mention me there once; DingTalk only sends a bot the messages of groups it was added to.',
  'builtin.groups.untitled': '(no title yet)',
  'builtin.groups.installed': 'installed',
  'builtin.groups.uninstalled': 'uninstalled',
  'builtin.groups.lastSeen': 'last seen {ago} ago',

  'dingtalk.budgetWarning':
    'DingTalk API use passed {percent}% of the monthly quota: {used} of {limit} calls, {projected} projected by month end. Raise `dingtalk.limits.monthlyCalls` after upgrading the edition, or reduce notifications.',
  ...doctorEn,
};
