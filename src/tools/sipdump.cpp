// farend-sipdump: prints what farend's SIP parser sees in each file (one SIP message per file,
// or "-" for standard input). For checking how a message from the field is read.
#include <farend/simd/scan.hpp>
#include <farend/sip/dump.hpp>
#include <farend/sip/message.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::printf("usage: farend-sipdump FILE... (\"-\" reads standard input)\n"
                    "Prints the parse of each SIP message: verdict, start line, headers, Via and Contact\n"
                    "values, Content-Length and SDP addresses. FAREND_SIMD=scalar|avx2|avx512 picks the scanner.\n");
        return argc < 2 ? 2 : 0;
    }
    farend::sip::MessageParser parser;
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
        std::string data;
        if (!std::strcmp(argv[i], "-")) {
            data.assign(std::istreambuf_iterator<char>(std::cin), {});
        } else {
            std::ifstream f(argv[i], std::ios::binary);
            if (!f) {
                std::fprintf(stderr, "farend-sipdump: cannot read %s: %s\n", argv[i], std::strerror(errno));
                rc = 1;
                continue;
            }
            std::ostringstream s;
            s << f.rdbuf();
            data = s.str();
        }
        const auto& idx = parser.parse(data);
        std::printf("== %s (%zu bytes, scanner %s)\n%s", argv[i], data.size(), parser.kernel().name,
                    farend::sip::dump(data, parser.mask_view(), idx).c_str());
    }
    return rc;
}
