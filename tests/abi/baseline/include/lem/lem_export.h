/* Symbol visibility and deprecation markers for the libLEM C ABI. */
#ifndef LEM_EXPORT_H
#define LEM_EXPORT_H

#if defined(LEM_STATIC)
#  define LEM_API
#elif defined(_WIN32)
#  if defined(LEM_BUILDING_LIBRARY)
#    define LEM_API __declspec(dllexport)
#  else
#    define LEM_API __declspec(dllimport)
#  endif
#else
#  define LEM_API __attribute__((visibility("default")))
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define LEM_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#  define LEM_DEPRECATED(msg)
#endif

#endif /* LEM_EXPORT_H */
