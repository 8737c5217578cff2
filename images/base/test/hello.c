/* Acceptance check for the base image: a dynamically linked C program using glibc, OpenSSL
   and zlib. */
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

int main(void) {
	struct passwd *pw = getpwuid(getuid());
	printf("hello from C: uid %d user %s zlib %s %s\n", (int)getuid(), pw ? pw->pw_name : "?",
	       zlibVersion(), OpenSSL_version(OPENSSL_VERSION));
	return 0;
}
