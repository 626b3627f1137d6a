#include "ui/gui_application.h"

#include <QApplication>
#include <QIcon>
#include <QLoggingCategory>

#include "core/log.h"
#include "ui/main_window.h"

Q_LOGGING_CATEGORY(pictorLog, "pictor")

// The icon lives in pictor_ui, a static library: its resources must be registered by hand.
static void initResources()
{
    Q_INIT_RESOURCE(pictor);
}

namespace pictor::ui {

int runGuiApplication(int argc, char** argv, const GuiOptions& options)
{
    QApplication::setApplicationName(QStringLiteral("pictor"));
    QApplication::setOrganizationName(QStringLiteral("pictor"));
    QApplication::setApplicationDisplayName(QStringLiteral("Pictor"));
    QApplication::setDesktopFileName(QStringLiteral("pictor"));
    QApplication app(argc, argv);
    initResources();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/pictor/pictor.svg")));
    setLogSink([](LogLevel level, std::string_view message) {
        const QString text = QString::fromUtf8(message.data(), static_cast<qsizetype>(message.size()));
        switch (level) {
        case LogLevel::Debug:
            qCDebug(pictorLog).noquote() << text;
            break;
        case LogLevel::Info:
            qCInfo(pictorLog).noquote() << text;
            break;
        case LogLevel::Warning:
            qCWarning(pictorLog).noquote() << text;
            break;
        case LogLevel::Error:
            qCCritical(pictorLog).noquote() << text;
            break;
        }
    });
    setLogLevel(LogLevel::Info);

    MainWindow window({options.libraryDir, options.loadModelFamilies});
    window.show();
    return QApplication::exec();
}

} // namespace pictor::ui
