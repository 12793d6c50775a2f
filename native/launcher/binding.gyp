{
  'targets': [
    {
      # A standalone executable, not an addon: it must not carry Node's address space.
      'target_name': 'agent-launcher',
      'type': 'executable',
      'sources': ['launcher.c'],
      'cflags': ['-O2', '-Wall', '-Wextra'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-O2', '-Wall', '-Wextra'] },
    },
  ],
}
