{
  # Engram's native backend. Built at install time on the machine that runs it, hence -march=native
  # (override with `node-gyp rebuild -- -Dengram_march=x86-64-v3` for a portable build).
  # OpenBLAS is linked when scripts/detect-openblas.cjs finds one (ENGRAM_NO_OPENBLAS=1 disables it);
  # the builtin GEMM is always compiled in.
  'variables': {
    'engram_march%': 'native',
  },
  'targets': [
    {
      'target_name': 'engram_native',
      'sources': [
        'native/addon.cc',
        'native/gemm.cc',
        'native/kernels.cc',
        'native/mixture.cc',
        'native/normals.cc',
      ],
      'cflags': [
        '-O3',
        '-march=<(engram_march)',
        '-fopenmp',
        '-ffp-contract=fast',
        '-fno-math-errno',
        '-Wno-psabi',
        '<!@(node scripts/detect-openblas.cjs --cflags)',
      ],
      'cflags_cc': [
        '-std=gnu++17',
      ],
      'ldflags': [
        '-fopenmp',
      ],
      'libraries': [
        '<!@(node scripts/detect-openblas.cjs --libs)',
      ],
      'xcode_settings': {
        'OTHER_CFLAGS': [
          '-O3',
          '-march=<(engram_march)',
          '-ffp-contract=fast',
          '-fno-math-errno',
        ],
        'CLANG_CXX_LANGUAGE_STANDARD': 'gnu++17',
      },
    },
  ],
}
