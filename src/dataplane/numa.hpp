// NUMA sockets as the dataplane's messages name them. Internal to the dataplane module.
#pragma once

#include <rte_memory.h>  // SOCKET_ID_ANY

#include <string>

namespace farend::dataplane {

// "socket N", or "any socket" for SOCKET_ID_ANY (memory placed wherever EAL has it).
inline std::string socket_name(int socket) {
    return socket == SOCKET_ID_ANY ? std::string("any socket") : "socket " + std::to_string(socket);
}

}  // namespace farend::dataplane
